// The resources the lab's API server holds: Kubernetes Node and Pod, and Calico's BGPPeer,
// BGPConfiguration, IPPool and (IPAM) BlockAffinity. The zod schemas are the types; they decode what
// a user wrote (strictly: an unknown field is an error, as calicoctl's strict unmarshal makes it) and
// normalise it once (AS numbers, written as 65101, "65101" or asdot "1.10", become numbers).
//
// Calico's Node resource is not stored: as with Calico's Kubernetes datastore, it is a view of the
// Kubernetes Node, its BGP spec kept in the node's `projectcalico.org/*` annotations (see calicoNodeView).

import { z } from 'zod';

export const CALICO_API_VERSION = 'projectcalico.org/v3';
/** Calico's default AS number when neither the node nor the default BGPConfiguration sets one. */
export const DEFAULT_AS_NUMBER = 64512;
export const ANNOTATION_IPV4 = 'projectcalico.org/IPv4Address';
export const ANNOTATION_IPV6 = 'projectcalico.org/IPv6Address';
export const ANNOTATION_AS = 'projectcalico.org/ASNumber';
export const ANNOTATION_RR_CLUSTER_ID = 'projectcalico.org/RouteReflectorClusterID';
export const ANNOTATION_LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Thrown by a schema transform; the message is the real tool's. */
const AS_NUMBER_ERROR = (value: unknown) => `invalid AS Number format (${String(value)})`;

/** Parses an AS number the way Calico's numorstring.ASNumber does: uint32, decimal or asdot. */
export function parseASNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 && value <= 0xffffffff ? value : undefined;
  if (typeof value !== 'string') return undefined;
  if (/^\d+$/.test(value)) {
    const n = Number(value);
    return n <= 0xffffffff ? n : undefined;
  }
  const asdot = /^(\d+)\.(\d+)$/.exec(value);
  if (asdot) {
    const high = Number(asdot[1]);
    const low = Number(asdot[2]);
    return high <= 0xffff && low <= 0xffff ? high * 65536 + low : undefined;
  }
  return undefined;
}

export const ASNumber = z.unknown().transform((value, ctx) => {
  const parsed = parseASNumber(value);
  if (parsed === undefined) {
    ctx.addIssue({ code: 'custom', message: AS_NUMBER_ERROR(value), params: { asNumber: true } });
    return z.NEVER;
  }
  return parsed;
}).describe('uint32 AS number; also "65101" or asdot "1.10"');

const Labels = z.record(z.string(), z.string());

export const ObjectMeta = z.strictObject({
  name: z.string().default(''),
  namespace: z.string().optional(),
  generateName: z.string().optional(),
  labels: Labels.optional(),
  annotations: Labels.optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  creationTimestamp: z.string().nullable().optional(),
  generation: z.number().optional(),
  ownerReferences: z.array(z.strictObject({
    apiVersion: z.string(),
    kind: z.string(),
    name: z.string(),
    uid: z.string().optional(),
    controller: z.boolean().optional(),
    blockOwnerDeletion: z.boolean().optional(),
  })).optional(),
});
export type ObjectMeta = z.infer<typeof ObjectMeta>;

const Duration = z.string().describe('a Go duration such as "10s" or "2m0s"');
const GO_DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$|^0$/;

// --- Calico -------------------------------------------------------------------------------------

export const BGPPeerSpec = z.strictObject({
  node: z.string().optional(),
  nodeSelector: z.string().optional(),
  peerIP: z.string().optional().describe('IP, IPv4:port or [IPv6]:port'),
  peerSelector: z.string().optional(),
  asNumber: ASNumber.optional(),
  localASNumber: ASNumber.optional(),
  keepOriginalNextHop: z.boolean().optional(),
  nextHopMode: z.string().optional(),
  password: z.strictObject({
    secretKeyRef: z.strictObject({ name: z.string(), key: z.string(), optional: z.boolean().optional() }).optional(),
  }).optional(),
  sourceAddress: z.string().optional().describe('UseNodeIP (default) or None'),
  maxRestartTime: Duration.optional(),
  keepaliveTime: Duration.optional(),
  numAllowedLocalASNumbers: z.number().int().optional(),
  ttlSecurity: z.number().int().optional(),
  reachableBy: z.string().optional(),
  filters: z.array(z.string()).optional(),
  // Calico Enterprise only (the dual-ToR fields).
  failureDetectionMode: z.string().optional().describe('None (default) or BFDIfDirectlyConnected'),
  restartMode: z.string().optional().describe('GracefulRestart (default) or LongLivedGracefulRestart'),
  birdGatewayMode: z.string().optional().describe('Recursive (default) or DirectIfDirectlyConnected'),
});
export type BGPPeerSpec = z.infer<typeof BGPPeerSpec>;

const CidrBlock = z.strictObject({ cidr: z.string() });

export const BGPConfigurationSpec = z.strictObject({
  logSeverityScreen: z.string().optional(),
  nodeToNodeMeshEnabled: z.boolean().optional(),
  asNumber: ASNumber.optional(),
  serviceClusterIPs: z.array(CidrBlock).optional(),
  serviceExternalIPs: z.array(CidrBlock).optional(),
  serviceLoadBalancerIPs: z.array(CidrBlock).optional(),
  listenPort: z.number().int().optional(),
  bindMode: z.string().optional(),
  communities: z.array(z.strictObject({ name: z.string(), value: z.string() })).optional(),
  prefixAdvertisements: z.array(z.strictObject({ cidr: z.string(), communities: z.array(z.string()) })).optional(),
  nodeMeshPassword: z.strictObject({
    secretKeyRef: z.strictObject({ name: z.string(), key: z.string(), optional: z.boolean().optional() }).optional(),
  }).optional(),
  nodeMeshMaxRestartTime: Duration.optional(),
  ignoredInterfaces: z.array(z.string()).optional(),
});
export type BGPConfigurationSpec = z.infer<typeof BGPConfigurationSpec>;

export const IPPoolSpec = z.strictObject({
  cidr: z.string().default(''),
  blockSize: z.number().int().optional(),
  disabled: z.boolean().optional(),
  nodeSelector: z.string().optional(),
  natOutgoing: z.boolean().optional(),
  ipipMode: z.string().optional(),
  vxlanMode: z.string().optional(),
  disableBGPExport: z.boolean().optional(),
  allowedUses: z.array(z.string()).optional(),
});
export type IPPoolSpec = z.infer<typeof IPPoolSpec>;

export const CalicoNodeSpec = z.strictObject({
  bgp: z.strictObject({
    asNumber: ASNumber.optional(),
    ipv4Address: z.string().optional(),
    ipv6Address: z.string().optional(),
    ipv4IPIPTunnelAddr: z.string().optional(),
    routeReflectorClusterID: z.string().optional(),
  }).optional(),
  orchRefs: z.array(z.strictObject({ nodeName: z.string(), orchestrator: z.string() })).optional(),
  addresses: z.array(z.strictObject({ address: z.string(), type: z.string().optional() })).optional(),
});
export type CalicoNodeSpec = z.infer<typeof CalicoNodeSpec>;

export const BlockAffinitySpec = z.strictObject({
  node: z.string(),
  cidr: z.string(),
  state: z.enum(['confirmed', 'pending', 'pendingDeletion']).default('confirmed'),
  deleted: z.string().optional(),
});

// --- Kubernetes ---------------------------------------------------------------------------------

const Taint = z.strictObject({ key: z.string(), value: z.string().optional(), effect: z.string() });

export const NodeSpec = z.strictObject({
  podCIDR: z.string().optional(),
  taints: z.array(Taint).optional(),
  unschedulable: z.boolean().optional(),
});
export const NodeStatus = z.object({
  addresses: z.array(z.strictObject({ type: z.string(), address: z.string() })).default([]),
  nodeInfo: z.object({
    kubeletVersion: z.string(),
    osImage: z.string(),
    kernelVersion: z.string(),
    containerRuntimeVersion: z.string(),
    architecture: z.string().default('amd64'),
    operatingSystem: z.string().default('linux'),
  }),
  capacity: z.record(z.string(), z.string()).optional(),
  conditions: z.array(z.object({
    type: z.string(),
    status: z.string(),
    reason: z.string().optional(),
    message: z.string().optional(),
    lastHeartbeatTime: z.string().optional(),
    lastTransitionTime: z.string().optional(),
  })).optional(),
});

export const PodSpec = z.object({
  nodeName: z.string().optional(),
  hostNetwork: z.boolean().optional(),
  nodeSelector: z.record(z.string(), z.string()).optional(),
  containers: z.array(z.object({ name: z.string(), image: z.string() }).passthrough()).default([]),
  tolerations: z.array(z.object({
    key: z.string().optional(), operator: z.string().optional(), value: z.string().optional(), effect: z.string().optional(),
  })).optional(),
}).passthrough();
export const PodStatus = z.object({
  phase: z.string().optional(),
  podIP: z.string().optional(),
  hostIP: z.string().optional(),
  startTime: z.string().optional(),
  containerStatuses: z.array(z.object({ name: z.string(), ready: z.boolean(), restartCount: z.number() })).optional(),
}).passthrough();

// --- Objects, one schema per kind ---------------------------------------------------------------

function resource<K extends string, S extends z.ZodType, T extends z.ZodType>(apiVersion: string, kind: K, spec: S, status?: T) {
  return z.strictObject({
    apiVersion: z.literal(apiVersion),
    kind: z.literal(kind),
    metadata: ObjectMeta.default({ name: '' }),
    spec: z.preprocess((value) => (value === undefined || value === null ? {} : value), spec),
    status: (status ?? z.undefined()).optional() as z.ZodOptional<T>,
  });
}

export const BGPPeer = resource(CALICO_API_VERSION, 'BGPPeer', BGPPeerSpec);
export const BGPConfiguration = resource(CALICO_API_VERSION, 'BGPConfiguration', BGPConfigurationSpec);
export const IPPool = resource(CALICO_API_VERSION, 'IPPool', IPPoolSpec);
/** calicoctl prints a Node with `status: {}` (BGP status is reported elsewhere); applying it back is fine. */
export const CalicoNode = resource(CALICO_API_VERSION, 'Node', CalicoNodeSpec, z.object({}).passthrough());
export const BlockAffinity = resource(CALICO_API_VERSION, 'BlockAffinity', BlockAffinitySpec);
export const KubeNode = resource('v1', 'Node', NodeSpec, NodeStatus);
export const Pod = resource('v1', 'Pod', PodSpec, PodStatus);

export type BGPPeer = z.infer<typeof BGPPeer>;
export type BGPConfiguration = z.infer<typeof BGPConfiguration>;
export type IPPool = z.infer<typeof IPPool>;
export type CalicoNode = z.infer<typeof CalicoNode>;
export type BlockAffinity = z.infer<typeof BlockAffinity>;
export type KubeNode = z.infer<typeof KubeNode>;
export type Pod = z.infer<typeof Pod>;

/** The stored kinds, keyed by the name the API server's paths use. */
export const KINDS = {
  nodes: { kind: 'Node', apiVersion: 'v1', namespaced: false, schema: KubeNode },
  pods: { kind: 'Pod', apiVersion: 'v1', namespaced: true, schema: Pod },
  bgppeers: { kind: 'BGPPeer', apiVersion: CALICO_API_VERSION, namespaced: false, schema: BGPPeer },
  bgpconfigurations: { kind: 'BGPConfiguration', apiVersion: CALICO_API_VERSION, namespaced: false, schema: BGPConfiguration },
  ippools: { kind: 'IPPool', apiVersion: CALICO_API_VERSION, namespaced: false, schema: IPPool },
  blockaffinities: { kind: 'BlockAffinity', apiVersion: CALICO_API_VERSION, namespaced: false, schema: BlockAffinity },
} as const;
export type KindKey = keyof typeof KINDS;
export const KIND_KEYS = Object.keys(KINDS) as KindKey[];

export function isKindKey(value: string): value is KindKey {
  return Object.hasOwn(KINDS, value);
}

/** The key of a stored kind from an object's apiVersion and kind; undefined when not stored. */
export function kindKeyOf(apiVersion: unknown, kind: unknown): KindKey | undefined {
  return KIND_KEYS.find((key) => KINDS[key].apiVersion === apiVersion && KINDS[key].kind === kind);
}

/** Any stored object, as the datastore keeps it (already decoded by its kind's schema). */
export interface StoredObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: unknown;
  status?: unknown;
}

// --- Decoding -----------------------------------------------------------------------------------

/** What went wrong decoding a document, as the real tools would say it. */
export interface DecodeError {
  /** The JSON path of the bad field, for example ["spec", "peerIPs"]. */
  path: Array<string | number>;
  /** 'unknown-field' | 'type' | 'as-number' | 'duration' | 'missing' */
  code: 'unknown-field' | 'type' | 'as-number' | 'duration' | 'missing';
  field: string;
  message: string;
  value?: unknown;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; errors: DecodeError[] };

function valueAt(input: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/** Decodes an object of a stored kind with its schema, reporting problems as DecodeErrors. */
export function decode<T>(schema: z.ZodType<T>, input: unknown): Decoded<T> {
  const result = schema.safeParse(input);
  if (result.success) {
    const durationErrors = findBadDurations(result.data);
    if (durationErrors.length > 0) return { ok: false, errors: durationErrors };
    return { ok: true, value: result.data };
  }
  const errors: DecodeError[] = [];
  for (const issue of result.error.issues) {
    const path = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        errors.push({ path: [...path, key], code: 'unknown-field', field: key, message: `json: unknown field "${key}"` });
      }
    } else if (issue.code === 'custom' && (issue as { params?: { asNumber?: boolean } }).params?.asNumber) {
      errors.push({ path, code: 'as-number', field: String(path.at(-1) ?? ''), message: issue.message, value: valueAt(input, issue.path) });
    } else {
      const value = valueAt(input, issue.path);
      const missing = value === undefined;
      errors.push({
        path,
        code: missing ? 'missing' : 'type',
        field: String(path.at(-1) ?? ''),
        value,
        message: missing
          ? `missing required field "${String(path.at(-1) ?? '')}"`
          : `json: cannot unmarshal ${goTypeOf(value)} into Go struct field ${path.join('.')} of type ${expectedGoType(issue)}`,
      });
    }
  }
  return { ok: false, errors };
}

function goTypeOf(value: unknown): string {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return 'object';
}

function expectedGoType(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    const expected = String(issue.expected);
    return expected === 'boolean' ? 'bool' : expected === 'number' ? 'int' : expected === 'record' ? 'map[string]string' : expected;
  }
  return 'string';
}

function findBadDurations(value: unknown): DecodeError[] {
  const errors: DecodeError[] = [];
  const spec = (value as { spec?: Record<string, unknown> }).spec;
  if (!spec) return errors;
  for (const key of ['maxRestartTime', 'keepaliveTime', 'nodeMeshMaxRestartTime']) {
    const duration = spec[key];
    if (typeof duration === 'string' && !GO_DURATION.test(duration)) {
      errors.push({ path: ['spec', key], code: 'duration', field: key, value: duration, message: `time: invalid duration "${duration}"` });
    }
  }
  return errors;
}

/** A Go duration in seconds ("1m30s" → 90); undefined for a malformed one. */
export function durationSeconds(duration: string): number | undefined {
  if (!GO_DURATION.test(duration)) return undefined;
  const units: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let total = 0;
  for (const match of duration.matchAll(/([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(match[1]) * units[match[2]!]!;
  return total;
}

// --- The Calico Node view of a Kubernetes Node ---------------------------------------------------

/** Calico's Node resource for a Kubernetes Node, as calicoctl shows it. */
export function calicoNodeView(node: KubeNode): CalicoNode {
  const annotations = node.metadata.annotations ?? {};
  const bgp: NonNullable<CalicoNodeSpec['bgp']> = {};
  const as = annotations[ANNOTATION_AS];
  if (as !== undefined && parseASNumber(as) !== undefined) bgp.asNumber = parseASNumber(as)!;
  if (annotations[ANNOTATION_IPV4]) bgp.ipv4Address = annotations[ANNOTATION_IPV4];
  if (annotations[ANNOTATION_IPV6]) bgp.ipv6Address = annotations[ANNOTATION_IPV6];
  if (annotations[ANNOTATION_RR_CLUSTER_ID]) bgp.routeReflectorClusterID = annotations[ANNOTATION_RR_CLUSTER_ID];
  const internal = (node.status?.addresses ?? []).filter((a) => a.type === 'InternalIP');
  const metadata: ObjectMeta = {
    name: node.metadata.name,
    labels: node.metadata.labels,
    annotations: node.metadata.annotations,
    uid: node.metadata.uid,
    resourceVersion: node.metadata.resourceVersion,
    creationTimestamp: node.metadata.creationTimestamp,
  };
  const spec: CalicoNodeSpec = {
    addresses: [
      ...(bgp.ipv4Address ? [{ address: bgp.ipv4Address, type: 'CalicoNodeIP' }] : []),
      ...internal.map((a) => ({ address: a.address, type: 'InternalIP' })),
    ],
    ...(Object.keys(bgp).length > 0 ? { bgp } : {}),
    orchRefs: [{ nodeName: node.metadata.name, orchestrator: 'k8s' }],
  };
  return { apiVersion: CALICO_API_VERSION, kind: 'Node', metadata, spec };
}

/** The annotations that carry a Calico Node's BGP spec on its Kubernetes Node. */
export function calicoBGPAnnotations(spec: CalicoNodeSpec): Record<string, string | undefined> {
  const bgp = spec.bgp ?? {};
  return {
    [ANNOTATION_AS]: bgp.asNumber === undefined ? undefined : String(bgp.asNumber),
    [ANNOTATION_IPV4]: bgp.ipv4Address,
    [ANNOTATION_IPV6]: bgp.ipv6Address,
    [ANNOTATION_RR_CLUSTER_ID]: bgp.routeReflectorClusterID,
  };
}
