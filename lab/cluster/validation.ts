// Calico's validation of the resources the lab holds, with Calico's field names and reasons, and the
// two ways the real tools print a failure: calicoctl's ErrorValidation ("error with field PeerIP =
// 'x' (Reason: failed to validate Field: PeerIP because of Tag: IP:port )") and kubectl's Invalid
// status ("The BGPPeer \"x\" is invalid: \n* PeerIP: Invalid value: ...").
//
// Rules follow libcalico-go's validator: field tags first (in struct order), then the struct-level
// cross-field rules, then the client's checks (IP pool size, BGPConfiguration names).

import { checkSelector } from './selector.ts';
import { cidrVersion, cidrsOverlap, isIPv4, isIPv6, parseCidr4, parsePeerIP } from './ip.ts';
import type { BGPConfiguration, BGPPeer, CalicoNodeSpec, IPPool, KindKey, ObjectMeta, StoredObject } from './resources.ts';

/** One failed field, as libcalico-go's ErroredField: Name = 'Value' (Reason). */
export interface FieldError {
  name: string;
  value?: unknown;
  reason: string;
}

const REASON = 'Reason: ';
const NAME_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const NAME_SUBDOMAIN = `${NAME_LABEL}(\\.${NAME_LABEL})*`;
const NAME_REGEX = new RegExp(`^${NAME_SUBDOMAIN}$`);
const DNS1123_SUBDOMAIN_MAX = 253;
const LOG_LEVELS = ['Debug', 'Info', 'Warning', 'Error', 'Fatal'];
const ENCAPSULATION_MODES = ['Always', 'CrossSubnet', 'Never'];

/** A failed struct tag, in the validator's words. */
function tagError(field: string, value: unknown, tag: string, name = field): FieldError {
  return { name, value, reason: `${REASON}failed to validate Field: ${field} because of Tag: ${tag} ` };
}

function oneOf(errors: FieldError[], field: string, value: string | undefined, allowed: readonly string[]): void {
  if (value !== undefined && value !== '' && !allowed.includes(value)) errors.push(tagError(field, value, 'oneof'));
}

function selector(errors: FieldError[], field: string, value: string | undefined): void {
  if (value !== undefined && value !== '' && checkSelector(value)) errors.push(tagError(field, value, 'selector'));
}

const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS_PREFIX = new RegExp(`^${NAME_SUBDOMAIN}$`);

/** Kubernetes' IsQualifiedName, with its messages. */
export function qualifiedNameErrors(key: string): string[] {
  const parts = key.split('/');
  let name = key;
  const errors: string[] = [];
  if (parts.length === 2) {
    const [prefix, rest] = parts as [string, string];
    if (prefix.length === 0) errors.push('prefix part must be non-empty');
    else if (!DNS_PREFIX.test(prefix)) {
      errors.push(`prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '${NAME_SUBDOMAIN}')`);
    }
    name = rest;
  } else if (parts.length > 2) {
    return ["a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"];
  }
  if (name.length === 0) errors.push('name part must be non-empty');
  else if (name.length > 63) errors.push('name part must be no more than 63 characters');
  else if (!QUALIFIED_NAME.test(name)) {
    errors.push("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
  }
  return errors;
}

/** Kubernetes' IsValidLabelValue, with its messages. */
export function labelValueErrors(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 63) errors.push('must be no more than 63 characters');
  if (!LABEL_VALUE.test(value)) {
    errors.push("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
  }
  return errors;
}

export function validateObjectMeta(meta: ObjectMeta): FieldError[] {
  const errors: FieldError[] = [];
  if (meta.name.length > DNS1123_SUBDOMAIN_MAX) {
    errors.push({ name: 'Metadata.Name', value: meta.name, reason: `name is too long by ${meta.name.length - DNS1123_SUBDOMAIN_MAX} bytes` });
  }
  if (!NAME_REGEX.test(meta.name)) {
    errors.push({
      name: 'Metadata.Name',
      value: meta.name,
      reason: `name must consist of lower case alphanumeric characters, '-' or '.' (regex: ${NAME_SUBDOMAIN})`,
    });
  }
  for (const key of Object.keys(meta.annotations ?? {})) {
    for (const reason of qualifiedNameErrors(key.toLowerCase())) errors.push({ name: 'Metadata.Annotations (key)', value: key, reason });
  }
  for (const [key, value] of Object.entries(meta.labels ?? {})) {
    for (const reason of qualifiedNameErrors(key)) errors.push({ name: 'Metadata.Labels (label)', value: key, reason });
    for (const reason of labelValueErrors(value)) errors.push({ name: 'Metadata.Labels (value)', value, reason });
  }
  return errors;
}

export function validateBGPPeer(peer: BGPPeer): FieldError[] {
  const errors = validateObjectMeta(peer.metadata);
  const spec = peer.spec;
  if (spec.node && !NAME_REGEX.test(spec.node)) errors.push(tagError('Node', spec.node, 'name'));
  if (spec.peerIP && !parsePeerIP(spec.peerIP)) errors.push(tagError('PeerIP', spec.peerIP, 'IP:port'));
  selector(errors, 'NodeSelector', spec.nodeSelector);
  selector(errors, 'PeerSelector', spec.peerSelector);
  if (spec.sourceAddress !== undefined && !['UseNodeIP', 'None'].includes(spec.sourceAddress)) {
    errors.push(tagError('SourceAddress', spec.sourceAddress, 'sourceAddress'));
  }
  if (spec.ttlSecurity !== undefined && (spec.ttlSecurity < 0 || spec.ttlSecurity > 255)) {
    errors.push(tagError('TTLSecurity', spec.ttlSecurity, 'max'));
  }
  if (spec.reachableBy !== undefined && spec.reachableBy !== '' && !isIPv4(spec.reachableBy) && !isIPv6(spec.reachableBy)) {
    errors.push(tagError('ReachableBy', spec.reachableBy, 'reachableBy'));
  }
  for (const filter of spec.filters ?? []) if (!NAME_REGEX.test(filter)) errors.push(tagError('Filters[0]', filter, 'name', 'Filters'));
  oneOf(errors, 'NextHopMode', spec.nextHopMode, ['Auto', 'Self', 'Keep']);
  oneOf(errors, 'FailureDetectionMode', spec.failureDetectionMode, ['None', 'BFDIfDirectlyConnected']);
  oneOf(errors, 'RestartMode', spec.restartMode, ['GracefulRestart', 'LongLivedGracefulRestart']);
  oneOf(errors, 'BIRDGatewayMode', spec.birdGatewayMode, ['Recursive', 'DirectIfDirectlyConnected']);
  // Struct-level rules (validateBGPPeerSpec).
  if (spec.node && spec.nodeSelector) {
    errors.push({ name: 'Node', value: spec.node, reason: 'Node field must be empty when NodeSelector is specified' });
  }
  if (spec.peerIP && spec.peerSelector) {
    errors.push({ name: 'PeerIP', value: spec.peerIP, reason: 'PeerIP field must be empty when PeerSelector is specified' });
  }
  if (spec.asNumber && spec.peerSelector) {
    errors.push({ name: 'ASNumber', value: spec.asNumber, reason: 'ASNumber field must be empty when PeerSelector is specified' });
  }
  return errors;
}

export function validateBGPConfiguration(config: BGPConfiguration): FieldError[] {
  const errors = validateObjectMeta(config.metadata);
  const spec = config.spec;
  const name = config.metadata.name;
  if (spec.logSeverityScreen !== undefined && !LOG_LEVELS.includes(spec.logSeverityScreen)) {
    errors.push(tagError('LogSeverityScreen', spec.logSeverityScreen, 'logLevel'));
  }
  for (const [field, blocks] of [
    ['ServiceClusterIPs', spec.serviceClusterIPs],
    ['ServiceExternalIPs', spec.serviceExternalIPs],
    ['ServiceLoadBalancerIPs', spec.serviceLoadBalancerIPs],
  ] as const) {
    for (const block of blocks ?? []) {
      const parsed = parseCidr4(block.cidr);
      const strict = parsed ? parsed.network === parsed.address : cidrVersion(block.cidr) === 6;
      if (!strict) errors.push(tagError('CIDR', block.cidr, 'net', `${field}.CIDR`));
    }
  }
  if (spec.listenPort !== undefined && (spec.listenPort <= 0 || spec.listenPort > 65535)) {
    errors.push(tagError('ListenPort', spec.listenPort, 'gt'));
  }
  oneOf(errors, 'BindMode', spec.bindMode, ['None', 'NodeIP']);
  if (spec.nodeMeshPassword && spec.nodeToNodeMeshEnabled === false) {
    errors.push({ name: 'Spec.NodeMeshPassword', value: '{...}', reason: 'spec.NodeMeshPassword cannot be set if spec.NodeToNodeMesh is disabled' });
  }
  if (spec.nodeMeshMaxRestartTime && spec.nodeToNodeMeshEnabled === false) {
    errors.push({ name: 'Spec.NodeMeshMaxRestartTime', value: '{...}', reason: 'spec.NodeMeshMaxRestartTime cannot be set if spec.NodeToNodeMesh is disabled' });
  }
  // The client's checks: a global "default" or a per-node "node.<name>" configuration.
  if (name !== 'default' && !name.startsWith('node.')) {
    errors.push({ name: 'Metadata.Name', value: name, reason: "Name should have prefix 'node.' or be 'default'" });
  }
  if (name !== 'default') {
    if (spec.nodeToNodeMeshEnabled !== undefined) {
      errors.push({ name: 'BGPConfigurationSpec.NodeToNodeMeshEnabled', value: spec.nodeToNodeMeshEnabled, reason: 'Cannot set nodeToNodeMeshEnabled on a non default BGP Configuration.' });
    }
    if (spec.asNumber !== undefined) {
      errors.push({ name: 'BGPConfigurationSpec.ASNumber', value: spec.asNumber, reason: 'Cannot set ASNumber on a non default BGP Configuration.' });
    }
  }
  return errors;
}

/** Calico's default block size for an IPv4 pool. */
export const DEFAULT_BLOCK_SIZE_V4 = 26;

export function validateIPPool(pool: IPPool): FieldError[] {
  const errors = validateObjectMeta(pool.metadata);
  const spec = pool.spec;
  const v4 = parseCidr4(spec.cidr);
  const version = cidrVersion(spec.cidr);
  if (!version || (v4 && v4.network !== v4.address)) errors.push(tagError('CIDR', spec.cidr, 'net'));
  if (spec.ipipMode !== undefined && !ENCAPSULATION_MODES.includes(spec.ipipMode)) errors.push(tagError('IPIPMode', spec.ipipMode, 'ipIpMode'));
  if (spec.vxlanMode !== undefined && !ENCAPSULATION_MODES.includes(spec.vxlanMode)) errors.push(tagError('VXLANMode', spec.vxlanMode, 'vxlanMode'));
  selector(errors, 'NodeSelector', spec.nodeSelector);
  // Struct-level rules (validateIPPoolSpec).
  if (spec.cidr === '') errors.push({ name: 'IPpool.CIDR', value: spec.cidr, reason: 'IPPool CIDR must be specified' });
  if (!version) {
    errors.push({ name: 'IPpool.CIDR', value: spec.cidr, reason: 'IPPool CIDR must be a valid subnet' });
    return errors;
  }
  const enabled = (mode: string | undefined) => mode === 'Always' || mode === 'CrossSubnet';
  if (enabled(spec.ipipMode) && enabled(spec.vxlanMode)) {
    errors.push({ name: 'IPpool.IPIPMode', value: spec.ipipMode, reason: 'IPIPMode and VXLANMode cannot both be enabled on the same IP pool' });
  }
  if (v4) {
    const blockSize = spec.blockSize ?? DEFAULT_BLOCK_SIZE_V4;
    if (spec.blockSize !== undefined && (spec.blockSize < 20 || spec.blockSize > 32)) {
      errors.push({ name: 'IPPool.Spec.BlockSize', value: spec.blockSize, reason: 'IPv4 block size must be between 20 and 32' });
    }
    if (!spec.disabled && v4.prefix > blockSize) {
      errors.push({ name: 'IPpool.CIDR', value: spec.cidr, reason: 'IP pool size is too small for use with Calico IPAM. It must be equal to or greater than the block size.' });
    }
    if (v4.network !== v4.address) errors.push({ name: 'IPpool.CIDR', value: spec.cidr, reason: 'IP pool CIDR is not strictly masked' });
    const linkLocal = parseCidr4('169.254.0.0/16')!;
    if (cidrsOverlap(v4, linkLocal)) errors.push({ name: 'IPpool.CIDR', value: spec.cidr, reason: 'IP pool range overlaps with IPv4 Link Local range 169.254.0.0/16' });
  }
  return errors;
}

export function validateCalicoNodeSpec(spec: CalicoNodeSpec): FieldError[] {
  const errors: FieldError[] = [];
  const bgp = spec.bgp;
  if (!bgp) return errors;
  if (bgp.ipv4Address !== undefined && !parseCidr4(bgp.ipv4Address)) errors.push(tagError('IPv4Address', bgp.ipv4Address, 'cidrv4'));
  if (bgp.ipv6Address !== undefined && cidrVersion(bgp.ipv6Address) !== 6) errors.push(tagError('IPv6Address', bgp.ipv6Address, 'cidrv6'));
  if (bgp.ipv4IPIPTunnelAddr !== undefined && !isIPv4(bgp.ipv4IPIPTunnelAddr)) errors.push(tagError('IPv4IPIPTunnelAddr', bgp.ipv4IPIPTunnelAddr, 'ipv4'));
  if (bgp.routeReflectorClusterID !== undefined && !isIPv4(bgp.routeReflectorClusterID)) {
    errors.push(tagError('RouteReflectorClusterID', bgp.routeReflectorClusterID, 'ipv4'));
  }
  if (Object.keys(bgp).length === 0) errors.push({ name: 'BGP', value: '{}', reason: 'Spec.BGP should not be empty' });
  return errors;
}

/** Kubernetes objects (Node, Pod) as the lab accepts them: valid names and labels. */
export function validateKubernetesMeta(meta: ObjectMeta): FieldError[] {
  const errors: FieldError[] = [];
  if (!NAME_REGEX.test(meta.name) || meta.name.length > DNS1123_SUBDOMAIN_MAX) {
    errors.push({
      name: 'metadata.name',
      value: meta.name,
      reason: `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '${NAME_SUBDOMAIN}')`,
    });
  }
  for (const [key, value] of Object.entries(meta.labels ?? {})) {
    for (const reason of qualifiedNameErrors(key)) errors.push({ name: 'metadata.labels', value: key, reason });
    for (const reason of labelValueErrors(value)) errors.push({ name: 'metadata.labels', value, reason });
  }
  return errors;
}

/** Validates a decoded object of a stored kind. */
export function validate(kind: KindKey, object: StoredObject): FieldError[] {
  switch (kind) {
    case 'bgppeers':
      return validateBGPPeer(object as BGPPeer);
    case 'bgpconfigurations':
      return validateBGPConfiguration(object as BGPConfiguration);
    case 'ippools':
      return validateIPPool(object as IPPool);
    case 'nodes':
    case 'pods':
      return validateKubernetesMeta(object.metadata);
    case 'blockaffinities':
      return validateObjectMeta(object.metadata);
  }
}

// --- How the tools print a validation failure ---------------------------------------------------

function goValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `[${value.map(goValue).join(' ')}]`;
  if (value && typeof value === 'object') return `{${Object.values(value).map(goValue).join(' ')}}`;
  return '<nil>';
}

/** libcalico-go's ErroredField.String(). */
export function formatFieldError(error: FieldError): string {
  const field = error.value === undefined ? error.name : `${error.name} = '${goValue(error.value)}'`;
  return error.reason ? `${field} (${error.reason})` : field;
}

/** libcalico-go's ErrorValidation.Error(), as calicoctl prints it. */
export function formatCalicoValidation(errors: readonly FieldError[]): string {
  if (errors.length === 0) return 'unknown validation error';
  if (errors.length === 1) return `error with field ${formatFieldError(errors[0]!)}`;
  return `error with the following fields:\n${errors.map((e) => `-  ${formatFieldError(e)}\n`).join('')}`;
}

/** kubectl's message for an Invalid status from the API server. */
export function formatKubectlInvalid(kind: string, name: string, errors: readonly FieldError[]): string {
  const causes = errors.map((e) => {
    const value = typeof e.value === 'string' ? JSON.stringify(e.value) : goValue(e.value);
    return `* ${e.name}: Invalid value: ${value}: ${e.reason}`;
  });
  return `The ${kind} ${JSON.stringify(name)} is invalid: \n${causes.join('\n')}`;
}
