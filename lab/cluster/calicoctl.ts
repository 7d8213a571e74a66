// calicoctl, as the walkthrough uses it: node status (from BIRD's control socket), get, apply,
// create, delete and patch, with calicoctl's tables, messages and exit codes. Calico's Node is the
// view of the Kubernetes Node that Calico's Kubernetes datastore gives (resources.calicoNodeView).

import { parseAllDocuments } from 'yaml';
import type { Status } from './api.ts';
import { birdCommand, parseProtocols } from './bird-socket.ts';
import type { CliIO } from './cli-io.ts';
import type { Result } from './client.ts';
import { CALICOCTL_TABLE, boxTable, goYamlError, table, toJson, toYaml } from './format.ts';
import {
  BGPConfiguration, BGPPeer, CALICO_API_VERSION, CalicoNode, DEFAULT_AS_NUMBER, IPPool, calicoBGPAnnotations, calicoNodeView, decode,
  type CalicoNodeSpec, type KindKey, type KubeNode, type StoredObject,
} from './resources.ts';
import { formatCalicoValidation, validateCalicoNodeSpec, type FieldError } from './validation.ts';

type CalicoKind = 'Node' | 'BGPPeer' | 'BGPConfiguration' | 'IPPool';

const KIND_NAMES: Record<string, CalicoKind> = {};
for (const [kind, names] of [
  ['Node', ['node', 'nodes', 'no', 'nos']],
  ['BGPPeer', ['bgppeer', 'bgppeers', 'bgpp', 'bgpps', 'bp', 'bps']],
  ['BGPConfiguration', ['bgpconfiguration', 'bgpconfigurations', 'bgpconfig', 'bgpconfigs']],
  ['IPPool', ['ippool', 'ippools', 'ipp', 'ipps', 'pool', 'pools']],
] as const) {
  for (const name of names) KIND_NAMES[name] = kind;
}

const STORE_KEY: Record<CalicoKind, KindKey> = { Node: 'nodes', BGPPeer: 'bgppeers', BGPConfiguration: 'bgpconfigurations', IPPool: 'ippools' };
const SCHEMAS = { Node: CalicoNode, BGPPeer, BGPConfiguration, IPPool } as const;
/** The Kubernetes-datastore resource name in "not found" errors. */
const BACKEND_NAME: Record<CalicoKind, string> = {
  Node: 'nodes', BGPPeer: 'bgppeers.crd.projectcalico.org', BGPConfiguration: 'bgpconfigurations.crd.projectcalico.org', IPPool: 'ippools.crd.projectcalico.org',
};

/** A failure with calicoctl's message (printed to stderr, exit 1). */
class Failure extends Error {}

const NOT_ROOT = 'Need super user privileges: Operation not permitted\n';

interface Options {
  output: string;
  filename?: string;
  patch?: string;
  positional: string[];
}

function invalidOption(args: string[]): Failure {
  return new Failure(`Invalid option: 'calicoctl ${args.join(' ')}'. Use flag '--help' to read about a specific subcommand.`);
}

function parseOptions(args: string[]): Options {
  const options: Options = { output: 'ps', positional: [] };
  for (let i = 1; i < args.length; i++) {
    const arg = args[i]!;
    const take = (): string => {
      const eq = arg.indexOf('=');
      if (arg.startsWith('--') && eq > 0) return arg.slice(eq + 1);
      if (!arg.startsWith('--') && arg.length > 2) return arg.slice(2).replace(/^=/, '');
      const value = args[++i];
      if (value === undefined) throw invalidOption(args);
      return value;
    };
    const name = arg.startsWith('--') ? arg.split('=')[0]! : arg.slice(0, 2);
    if (name === '-o' || name === '--output') options.output = take();
    else if (name === '-f' || name === '--filename') options.filename = take();
    else if (name === '-p' || name === '--patch') options.patch = take();
    else if (name === '--allow-version-mismatch' || name === '--skip-exists' || name === '--skip-not-exists') continue;
    else if (arg.startsWith('-') && arg !== '-') throw invalidOption(args);
    else options.positional.push(arg);
  }
  return options;
}

/** libcalico-go's error for a missing resource. */
function doesNotExist(kind: CalicoKind, name: string): string {
  return `resource does not exist: ${kind}(${name}) with error: ${BACKEND_NAME[kind]} "${name}" not found`;
}

/** The Calico object as calicoctl shows it: Calico's own fields, never the Kubernetes ones. */
function present(kind: CalicoKind, object: StoredObject): StoredObject {
  if (kind === 'Node') return { ...calicoNodeView(object as KubeNode), status: {} } as StoredObject;
  const { name, resourceVersion, uid, creationTimestamp, labels, annotations } = object.metadata;
  return { apiVersion: CALICO_API_VERSION, kind, metadata: { annotations, creationTimestamp, labels, name, resourceVersion, uid }, spec: object.spec };
}

export class Calicoctl {
  private readonly io: CliIO;
  constructor(io: CliIO) {
    this.io = io;
  }

  async run(args: string[]): Promise<number> {
    try {
      switch (args[0]) {
        case 'node':
          return await this.node(args);
        case 'get':
          return await this.get(args);
        case 'apply':
        case 'create':
        case 'replace':
          return await this.write(args, args[0]);
        case 'delete':
          return await this.remove(args);
        case 'patch':
          return await this.patch(args);
        case 'version':
          this.io.stdout('Client Version:    v3.14.0\nGit commit:        lab\nCluster Version:   v3.14.0\nCluster Type:      k8s,bgp,operator\n');
          return 0;
        case undefined:
        case '--help':
        case '-h':
          this.io.stdout(HELP);
          return 0;
        default:
          throw invalidOption(args);
      }
    } catch (error) {
      if (error instanceof Failure) {
        this.io.stderr(error.message.endsWith('\n') ? error.message : `${error.message}\n`);
        return 1;
      }
      throw error;
    }
  }

  private unreachable(status: Status): never {
    throw new Failure(`Failed to create Calico API client: ${status.message}`);
  }

  private must<T>(result: Result<T>): T {
    if (!result.ok) this.unreachable(result.status);
    return result.value;
  }

  private kindOf(text: string | undefined, args: string[]): CalicoKind {
    if (text === undefined) throw invalidOption(args);
    const kind = KIND_NAMES[text.toLowerCase()];
    if (!kind) throw new Failure(`Failed to get resources: resource type '${text}' is not supported`);
    return kind;
  }

  /** The global AS number: the default BGPConfiguration's, else Calico's default. */
  private async globalAS(): Promise<number> {
    const config = await this.io.client.get('bgpconfigurations', 'default');
    if (!config.ok) {
      if (config.status.reason === 'NotFound') return DEFAULT_AS_NUMBER;
      this.unreachable(config.status);
    }
    return (config.value.spec as { asNumber?: number }).asNumber ?? DEFAULT_AS_NUMBER;
  }

  // --- node status ------------------------------------------------------------------------------

  private async node(args: string[]): Promise<number> {
    if (args[1] !== 'status' || args.length > 3 || (args[2] !== undefined && args[2] !== '--allow-version-mismatch')) throw invalidOption(args);
    if (!this.io.privileged()) throw new Failure(NOT_ROOT);
    const socket = this.io.birdSocket;
    if (socket === undefined) throw new Failure('Calico process is not running.');
    this.io.stdout('Calico process is running.\n');
    let reply;
    try {
      reply = await birdCommand(socket, 'show protocols');
    } catch {
      this.io.stdout('\nThe BGP backend process (BIRD) is not running.\n\n');
      return 0;
    }
    const peers = parseProtocols(reply).flatMap((p) => {
      const match = /^(Global|Node|Mesh)_(.+)$/.exec(p.name);
      if (p.proto !== 'BGP' || !match) return [];
      const type = { Global: 'global', Node: 'node specific', Mesh: 'node-to-node mesh' }[match[1] as 'Global' | 'Node' | 'Mesh'];
      const address = match[2]!.replace(/_port_(\d+)$/, ':$1').replaceAll('_', '.');
      return [[address, type, p.state, p.since, p.info]];
    });
    this.io.stdout('\nIPv4 BGP status\n');
    this.io.stdout(peers.length === 0 ? 'No IPv4 peers found.\n' : boxTable(['Peer address', 'Peer type', 'State', 'Since', 'Info'], peers));
    this.io.stdout('\nIPv6 BGP status\nNo IPv6 peers found.\n\n');
    return 0;
  }

  // --- get --------------------------------------------------------------------------------------

  private async get(args: string[]): Promise<number> {
    const options = parseOptions(args);
    const output = options.output;
    if (!['ps', 'wide', 'yaml', 'yml', 'json'].includes(output)) throw new Failure(`unrecognized output format '${output}'`);
    const kind = this.kindOf(options.positional[0], args);
    const names = options.positional.slice(1);
    const key = STORE_KEY[kind];
    let objects: StoredObject[];
    let revision = 0;
    const errors: string[] = [];
    if (names.length > 0) {
      objects = [];
      for (const name of names) {
        const result = await this.io.client.get(key, name);
        if (result.ok) objects.push(present(kind, result.value));
        else if (result.status.reason === 'NotFound') errors.push(doesNotExist(kind, name));
        else this.unreachable(result.status);
      }
    } else {
      const list = this.must(await this.io.client.list(key));
      objects = list.items.map((item) => present(kind, item));
      revision = list.revision;
    }
    if (output === 'yaml' || output === 'yml' || output === 'json') {
      const body = names.length > 0
        ? (objects.length === 1 ? objects[0] : objects)
        : { apiVersion: CALICO_API_VERSION, items: objects, kind: `${kind}List`, metadata: { resourceVersion: String(revision) } };
      if (names.length === 0 || objects.length > 0) this.io.stdout(output === 'json' ? toJson(body, 2) : toYaml(body));
    } else if (names.length === 0 || objects.length > 0) {
      this.io.stdout(`${table(await this.rows(kind, objects, output === 'wide'), CALICOCTL_TABLE)}\n`);
    }
    if (errors.length > 0) throw new Failure(errors.join('\n'));
    return 0;
  }

  private async rows(kind: CalicoKind, objects: StoredObject[], wide: boolean): Promise<string[][]> {
    switch (kind) {
      case 'Node': {
        if (!wide) return [['NAME'], ...objects.map((o) => [o.metadata.name])];
        const global = await this.globalAS();
        return [['NAME', 'ASN', 'IPV4', 'IPV6'], ...objects.map((o) => {
          const bgp = (o.spec as CalicoNodeSpec).bgp;
          return [o.metadata.name, bgp ? (bgp.asNumber !== undefined ? String(bgp.asNumber) : `(${global})`) : '', bgp?.ipv4Address ?? '', bgp?.ipv6Address ?? ''];
        })];
      }
      case 'BGPPeer':
        return [['NAME', 'PEERIP', 'NODE', 'ASN'], ...objects.map((o) => {
          const spec = o.spec as BGPPeer['spec'];
          return [o.metadata.name, spec.peerIP ?? '', spec.node || spec.nodeSelector || '(global)', String(spec.asNumber ?? 0)];
        })];
      case 'BGPConfiguration':
        return [['NAME', 'LOGSEVERITY', 'MESHENABLED', 'ASNUMBER'], ...objects.map((o) => {
          const spec = o.spec as BGPConfiguration['spec'];
          // calicoctl's template tests the pointers, not the values: a mesh set to false prints "false".
          return [o.metadata.name, spec.logSeverityScreen ?? '', spec.nodeToNodeMeshEnabled === undefined ? '-' : String(spec.nodeToNodeMeshEnabled), spec.asNumber !== undefined ? String(spec.asNumber) : '-'];
        })];
      case 'IPPool': {
        const header = wide ? ['NAME', 'CIDR', 'NAT', 'IPIPMODE', 'VXLANMODE', 'DISABLED', 'DISABLEBGPEXPORT', 'SELECTOR'] : ['NAME', 'CIDR', 'SELECTOR'];
        return [header, ...objects.map((o) => {
          const spec = o.spec as IPPool['spec'];
          return wide
            ? [o.metadata.name, spec.cidr, String(!!spec.natOutgoing), spec.ipipMode || 'Never', spec.vxlanMode || 'Never', String(!!spec.disabled), String(!!spec.disableBGPExport), spec.nodeSelector ?? '']
            : [o.metadata.name, spec.cidr, spec.nodeSelector ?? ''];
        })];
      }
    }
  }

  // --- apply / create / replace -----------------------------------------------------------------

  /** Loads the resources of -f FILE|- as calicoctl does; decoding problems are "file invalid". */
  private async load(options: Options, args: string[]): Promise<Array<{ kind: CalicoKind; object: StoredObject }>> {
    if (options.filename === undefined) throw invalidOption(args);
    let text: string;
    try {
      text = options.filename === '-' ? await this.io.readStdin() : await this.io.readFile(options.filename);
    } catch (error) {
      throw new Failure(`Failed to execute command: open ${options.filename}: no such file or directory`);
    }
    const resources: Array<{ kind: CalicoKind; object: StoredObject }> = [];
    for (const doc of parseAllDocuments(text, { version: '1.1' })) {
      if ('errors' in doc && doc.errors.length > 0) {
        throw new Failure(`Failed to execute command: error converting YAML to JSON: ${goYamlError(doc.errors[0]!, text)}`);
      }
      const value = doc.toJS() as unknown;
      if (value === null || value === undefined) continue;
      const items = Array.isArray(value) ? value : [value];
      for (const item of items) {
        const object = item as { apiVersion?: unknown; kind?: unknown };
        const kind = typeof object.kind === 'string' && Object.hasOwn(SCHEMAS, object.kind) ? (object.kind as CalicoKind) : undefined;
        if (object.apiVersion !== CALICO_API_VERSION || !kind) {
          throw new Failure(`Failed to execute command: Unknown resource type (${String(object.kind ?? '')}) and/or version (${String(object.apiVersion ?? '')})`);
        }
        const decoded = decode(SCHEMAS[kind] as never, item) as ReturnType<typeof decode<StoredObject>>;
        if (!decoded.ok) throw new Failure(`Failed to execute command: error unmarshaling JSON: ${decoded.errors[0]!.message}`);
        resources.push({ kind, object: decoded.value });
      }
    }
    if (resources.length === 0) throw new Failure(`Failed to execute command: No resources specified in file ${options.filename}`);
    return resources;
  }

  private async write(args: string[], action: 'apply' | 'create' | 'replace'): Promise<number> {
    const resources = await this.load(parseOptions(args), args);
    const kinds = new Set(resources.map((r) => r.kind));
    const single = kinds.size === 1 ? [...kinds][0]! : '';
    // Everything is checked before anything is written, so a bad document changes nothing.
    const plans: Array<{ key: KindKey; name: string; object: StoredObject; create: boolean }> = [];
    const errors: string[] = [];
    for (const { kind, object } of resources) {
      const key = STORE_KEY[kind];
      const name = object.metadata.name;
      if (!name) {
        errors.push('resource name may not be empty');
        continue;
      }
      const current = await this.io.client.get(key, name);
      if (!current.ok && current.status.reason !== 'NotFound') this.unreachable(current.status);
      if (kind === 'Node') {
        if (!current.ok) {
          errors.push(doesNotExist(kind, name));
          continue;
        }
        const spec = object.spec as CalicoNodeSpec;
        const invalid = validateCalicoNodeSpec(spec);
        if (invalid.length > 0) {
          errors.push(formatCalicoValidation(invalid));
          continue;
        }
        if (action === 'create') {
          errors.push(`resource already exists: Node(${name})`);
          continue;
        }
        plans.push({ key, name, object: nodeWithCalicoSpec(current.value as KubeNode, object), create: false });
        continue;
      }
      const exists = current.ok;
      if (action === 'create' && exists) {
        errors.push(`resource already exists: ${kind}(${name})`);
        continue;
      }
      if (action === 'replace' && !exists) {
        errors.push(doesNotExist(kind, name));
        continue;
      }
      let desired = object;
      if (exists) {
        // calicoctl keeps the stored metadata, merging in the given labels and annotations.
        const stored = current.value;
        desired = {
          ...object,
          metadata: {
            ...stored.metadata,
            labels: { ...(stored.metadata.labels ?? {}), ...(object.metadata.labels ?? {}) },
            annotations: { ...(stored.metadata.annotations ?? {}), ...(object.metadata.annotations ?? {}) },
            resourceVersion: object.metadata.resourceVersion,
          },
        };
        if (Object.keys(desired.metadata.labels ?? {}).length === 0) delete desired.metadata.labels;
        if (Object.keys(desired.metadata.annotations ?? {}).length === 0) delete desired.metadata.annotations;
      }
      const check = exists ? await this.io.client.update(key, name, desired, { dryRun: true }) : await this.io.client.create(key, desired, { dryRun: true });
      if (!check.ok) {
        errors.push(this.describeFailure(check.status, kind, name));
        continue;
      }
      plans.push({ key, name, object: desired, create: !exists });
    }
    const verb = { apply: 'apply', create: 'create', replace: 'replace' }[action];
    if (errors.length > 0) {
      const list = `[${errors.join(' ')}]`;
      if (resources.length === 1) throw new Failure(`Failed to ${verb} '${single}' resource: ${list}`);
      if (single) throw new Failure(`Failed to ${verb} any '${single}' resources: ${list}`);
      throw new Failure(`Failed to ${verb} any resources: ${list}`);
    }
    for (const plan of plans) {
      const result = plan.create ? await this.io.client.create(plan.key, plan.object) : await this.io.client.update(plan.key, plan.name, plan.object);
      if (!result.ok) throw new Failure(`Hit error(s): [${this.describeFailure(result.status, resources.find((r) => r.object.metadata.name === plan.name)!.kind, plan.name)}]`);
    }
    const past = { apply: 'applied', create: 'created', replace: 'replaced' }[action];
    this.io.stdout(single ? `Successfully ${past} ${plans.length} '${single}' resource(s)\n` : `Successfully ${past} ${plans.length} resource(s)\n`);
    return 0;
  }

  private describeFailure(status: Status, kind: CalicoKind, name: string): string {
    switch (status.reason) {
      case 'Invalid':
        return formatCalicoValidation((status.details.causes ?? []) as FieldError[]);
      case 'NotFound':
        return doesNotExist(kind, name);
      case 'AlreadyExists':
        return `resource already exists: ${kind}(${name})`;
      case 'Conflict':
        return `update conflict: ${kind}(${name})`;
      case 'Unreachable':
        return this.unreachable(status);
      default:
        return status.message;
    }
  }

  // --- delete -----------------------------------------------------------------------------------

  private async remove(args: string[]): Promise<number> {
    const options = parseOptions(args);
    let targets: Array<{ kind: CalicoKind; name: string }>;
    if (options.filename !== undefined) {
      targets = (await this.load(options, args)).map(({ kind, object }) => ({ kind, name: object.metadata.name }));
    } else {
      const kind = this.kindOf(options.positional[0], args);
      if (options.positional.length < 2) throw invalidOption(args);
      targets = options.positional.slice(1).map((name) => ({ kind, name }));
    }
    const kinds = new Set(targets.map((t) => t.kind));
    const single = kinds.size === 1 ? [...kinds][0]! : '';
    let deleted = 0;
    const errors: string[] = [];
    for (const { kind, name } of targets) {
      const result = await this.io.client.delete(STORE_KEY[kind], name);
      if (result.ok) deleted++;
      else errors.push(this.describeFailure(result.status, kind, name));
    }
    if (deleted > 0) this.io.stdout(single ? `Successfully deleted ${deleted} '${single}' resource(s)\n` : `Successfully deleted ${deleted} resource(s)\n`);
    if (errors.length > 0) throw new Failure(errors.map((e) => (single ? `Failed to delete '${single}' resource: ${e}` : `Failed to delete resource: ${e}`)).join('\n'));
    return 0;
  }

  // --- patch ------------------------------------------------------------------------------------

  private async patch(args: string[]): Promise<number> {
    const options = parseOptions(args);
    if (options.patch === undefined || options.positional.length !== 2) throw invalidOption(args);
    const kind = this.kindOf(options.positional[0], args);
    const name = options.positional[1]!;
    const key = STORE_KEY[kind];
    const current = await this.io.client.get(key, name);
    if (!current.ok) {
      if (current.status.reason === 'NotFound') throw new Failure(`Hit error: ${doesNotExist(kind, name)}`);
      this.unreachable(current.status);
    }
    let patch: unknown;
    try {
      patch = JSON.parse(options.patch);
    } catch {
      throw new Failure('Hit error: permorming strategic merge patch: invalid JSON document');
    }
    if (!patch || typeof patch !== 'object' || Array.isArray(patch)) throw new Failure('Hit error: permorming strategic merge patch: invalid JSON document');
    const original = present(kind, current.value);
    const merged = mergePatch(original, patch) as Record<string, unknown>;
    delete merged['status'];
    const decoded = decode(SCHEMAS[kind] as never, merged) as ReturnType<typeof decode<StoredObject>>;
    if (!decoded.ok) throw new Failure(`Hit error: creating resource from patched data: error unmarshaling JSON: ${decoded.errors[0]!.message}`);
    let update: StoredObject;
    if (kind === 'Node') {
      const invalid = validateCalicoNodeSpec(decoded.value.spec as CalicoNodeSpec);
      if (invalid.length > 0) throw new Failure(`Hit error: updating existing resource: ${formatCalicoValidation(invalid)}`);
      update = nodeWithCalicoSpec(current.value as KubeNode, decoded.value);
    } else {
      update = { ...decoded.value, metadata: { ...current.value.metadata, labels: decoded.value.metadata.labels, annotations: decoded.value.metadata.annotations } };
    }
    const result = await this.io.client.update(key, name, update);
    if (!result.ok) throw new Failure(`Hit error: updating existing resource: ${this.describeFailure(result.status, kind, name)}`);
    this.io.stdout(`Successfully patched 1 '${kind}' resource\n`);
    return 0;
  }
}

/** A Kubernetes Node carrying a Calico Node's spec (in annotations) and its labels. */
function nodeWithCalicoSpec(node: KubeNode, calico: StoredObject): KubeNode {
  const updated = structuredClone(node);
  const annotations = { ...(updated.metadata.annotations ?? {}) };
  for (const [key, value] of Object.entries(calicoBGPAnnotations(calico.spec as CalicoNodeSpec))) {
    if (value === undefined) delete annotations[key];
    else annotations[key] = value;
  }
  for (const [key, value] of Object.entries(calico.metadata.annotations ?? {})) if (!key.startsWith('projectcalico.org/')) annotations[key] = value;
  updated.metadata.annotations = annotations;
  updated.metadata.labels = { ...(updated.metadata.labels ?? {}), ...(calico.metadata.labels ?? {}) };
  return updated;
}

/** A strategic merge patch on Calico's types (no patch directives): maps merge, null deletes, lists replace. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

const HELP = `Usage:
  calicoctl [options] <command> [<args>...]

    create       Create a resource by file, directory or stdin.
    replace      Replace a resource by file, directory or stdin.
    apply        Apply a resource by file, directory or stdin.  This creates a resource
                 if it does not exist, and replaces a resource if it does exists.
    patch        Patch a pre-exisiting resource in place.
    delete       Delete a resource identified by file, directory, stdin or resource type and
                 name.
    get          Get a resource identified by file, directory, stdin or resource type and
                 name.
    node         Calico node management.
    version      Display the version of this binary.
`;
