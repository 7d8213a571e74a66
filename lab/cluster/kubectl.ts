// kubectl, as the walkthrough uses it, against the lab's API server: get, label, apply, delete,
// exec and describe node, with kubectl's tables, messages and exit codes.

import { parseAllDocuments } from 'yaml';
import type { Status } from './api.ts';
import { kubectlUnreachable, type CliIO } from './cli-io.ts';
import type { Result } from './client.ts';
import { KUBECTL_TABLE, age, goYamlError, table, toJson, toYaml } from './format.ts';
import { ANNOTATION_LAST_APPLIED, KINDS, kindKeyOf, type KindKey, type KubeNode, type Pod, type StoredObject } from './resources.ts';
import { formatKubectlInvalid } from './validation.ts';
import { podNetnsName } from '../topology.ts';

type Resource = KindKey | 'namespaces';

/** kubectl's names for the lab's resource types (singular, plural, short, and group-qualified). */
const RESOURCE_ALIASES: Record<string, Resource> = {
  node: 'nodes', nodes: 'nodes', no: 'nodes',
  pod: 'pods', pods: 'pods', po: 'pods',
  namespace: 'namespaces', namespaces: 'namespaces', ns: 'namespaces',
  bgppeer: 'bgppeers', bgppeers: 'bgppeers',
  bgpconfiguration: 'bgpconfigurations', bgpconfigurations: 'bgpconfigurations',
  ippool: 'ippools', ippools: 'ippools',
};
for (const key of ['bgppeers', 'bgpconfigurations', 'ippools'] as const) {
  const singular = key.slice(0, -1);
  RESOURCE_ALIASES[`${key}.projectcalico.org`] = key;
  RESOURCE_ALIASES[`${singular}.projectcalico.org`] = key;
}

/** How kubectl names an object in messages: `node/k8s-master`, `bgppeer.projectcalico.org/rack1-tor1`. */
function typeName(kind: Resource): string {
  switch (kind) {
    case 'nodes':
      return 'node';
    case 'pods':
      return 'pod';
    case 'namespaces':
      return 'namespace';
    default:
      return `${KINDS[kind].kind.toLowerCase()}.projectcalico.org`;
  }
}

/** The resource's name in NotFound messages (`nodes`, `bgppeers.projectcalico.org`). */
function pluralName(kind: Resource): string {
  return kind === 'nodes' || kind === 'pods' || kind === 'namespaces' ? kind : `${kind}.projectcalico.org`;
}

class UsageError extends Error {}

interface Flags {
  output?: string;
  namespace?: string;
  allNamespaces: boolean;
  selector?: string;
  showLabels: boolean;
  /** --no-headers: the table without its header row (widths from the rows alone, as kubectl does). */
  noHeaders: boolean;
  overwrite: boolean;
  filenames: string[];
  /** exec's -c: the lab's pods have the containers their image lists; any name runs in the pod. */
  container?: string;
  positional: string[];
  /** Everything after `--` (exec). */
  command: string[];
}

const VALUE_FLAGS: Record<string, keyof Flags> = {
  '-o': 'output', '--output': 'output', '-n': 'namespace', '--namespace': 'namespace', '-l': 'selector', '--selector': 'selector',
  '-f': 'filenames', '--filename': 'filenames', '-c': 'container', '--container': 'container',
};
const BOOLEAN_FLAGS: Record<string, keyof Flags | undefined> = {
  '-A': 'allNamespaces', '--all-namespaces': 'allNamespaces', '--show-labels': 'showLabels', '--no-headers': 'noHeaders', '--overwrite': 'overwrite',
  '-i': undefined, '-t': undefined, '-it': undefined, '-ti': undefined, '--stdin': undefined, '--tty': undefined, '--wait': undefined,
};

function parseFlags(args: string[], command: string): Flags {
  const flags: Flags = { allNamespaces: false, showLabels: false, noHeaders: false, overwrite: false, filenames: [], positional: [], command: [] };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      flags.command = args.slice(i + 1);
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      flags.positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (Object.hasOwn(BOOLEAN_FLAGS, name)) {
      const field = BOOLEAN_FLAGS[name];
      if (field) (flags[field] as boolean) = true;
      continue;
    }
    let field = VALUE_FLAGS[name];
    let value: string | undefined;
    if (field) {
      value = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : args[++i];
    } else if (!arg.startsWith('--') && VALUE_FLAGS[arg.slice(0, 2)]) {
      // Shorthand with its value attached: -owide, -nkube-system, -lk8s-app=kube-dns, -o=yaml.
      field = VALUE_FLAGS[arg.slice(0, 2)]!;
      value = arg.slice(2).replace(/^=/, '');
    } else if (arg.startsWith('--')) {
      throw new UsageError(`Error: unknown flag: ${name}\nSee 'kubectl ${command} --help' for usage.\n`);
    } else {
      throw new UsageError(`Error: unknown shorthand flag: '${arg[1]}' in ${arg}\nSee 'kubectl ${command} --help' for usage.\n`);
    }
    if (value === undefined) throw new UsageError(`Error: flag needs an argument: '${name.replace(/^-+/, '')}' in ${name}\nSee 'kubectl ${command} --help' for usage.\n`);
    if (field === 'filenames') flags.filenames.push(value);
    else (flags[field] as string) = value;
  }
  return flags;
}

/** Splits `TYPE NAME...` or `TYPE/NAME...` into a resource type and names. */
function resourceArgs(positional: string[]): { kind: Resource; names: string[] } {
  const first = positional[0]!;
  if (first.includes('/')) {
    const pairs = positional.map((p) => p.split('/'));
    const kinds = new Set(pairs.map(([t]) => resolveType(t!)));
    if (kinds.size > 1) throw new UsageError('error: the lab\'s kubectl takes one resource type per command\n');
    return { kind: [...kinds][0]!, names: pairs.map(([, n]) => n ?? '') };
  }
  return { kind: resolveType(first), names: positional.slice(1) };
}

function resolveType(text: string): Resource {
  const kind = RESOURCE_ALIASES[text.toLowerCase()];
  if (!kind) throw new UsageError(`error: the server doesn't have a resource type "${text}"\n`);
  return kind;
}

export class Kubectl {
  private readonly io: CliIO;
  constructor(io: CliIO) {
    this.io = io;
  }

  /** Runs one kubectl command line; resolves with its exit code. */
  async run(argv: string[]): Promise<number> {
    const [command, ...rest] = argv;
    try {
      switch (command) {
        case 'get':
          return await this.get(parseFlags(rest, 'get'));
        case 'label':
          return await this.label(parseFlags(rest, 'label'));
        case 'apply':
          return await this.apply(parseFlags(rest, 'apply'));
        case 'delete':
          return await this.remove(parseFlags(rest, 'delete'));
        case 'exec':
          return await this.exec(parseFlags(rest, 'exec'));
        case 'describe':
          return await this.describe(parseFlags(rest, 'describe'));
        case undefined:
        case 'help':
        case '--help':
        case '-h':
          this.io.stdout(HELP);
          return 0;
        default:
          this.io.stderr(`Error: unknown command "${command}" for "kubectl"\nRun 'kubectl --help' for usage.\n`);
          return 1;
      }
    } catch (error) {
      if (error instanceof UsageError) {
        this.io.stderr(error.message);
        return 1;
      }
      if (error instanceof RequestFailed) {
        this.io.stderr(error.message);
        return 1;
      }
      throw error;
    }
  }

  // --- Requests ---------------------------------------------------------------------------------

  private fail(status: Status, kind?: Resource): never {
    if (status.reason === 'Unreachable') throw new RequestFailed(kubectlUnreachable(status, this.io.client.base));
    if (status.reason === 'Invalid') {
      throw new RequestFailed(`${formatKubectlInvalid(status.details.kind ?? '', status.details.name ?? '', status.details.causes ?? [])}\n`);
    }
    if (status.reason === 'NotFound' && kind && status.details.name !== undefined) {
      throw new RequestFailed(`Error from server (NotFound): ${pluralName(kind)} "${status.details.name}" not found\n`);
    }
    throw new RequestFailed(`Error from server (${status.reason}): ${status.message}\n`);
  }

  private must<T>(result: Result<T>, kind?: Resource): T {
    if (!result.ok) this.fail(result.status, kind);
    return result.value;
  }

  private namespaceOf(flags: Flags): string {
    return flags.namespace ?? 'default';
  }

  private async listOf(kind: Resource, flags: Flags): Promise<StoredObject[]> {
    if (kind === 'namespaces') return this.namespaces();
    const namespace = KINDS[kind].namespaced && !flags.allNamespaces ? this.namespaceOf(flags) : undefined;
    const list = this.must(await this.io.client.list(kind, { namespace, labelSelector: flags.selector }), kind);
    return list.items;
  }

  /** Namespaces as the cluster has them: the system ones and every namespace a pod lives in. */
  private async namespaces(): Promise<StoredObject[]> {
    const pods = this.must(await this.io.client.list('pods'), 'pods').items;
    const nodes = this.must(await this.io.client.list('nodes'), 'nodes').items;
    const oldest = nodes.map((n) => n.metadata.creationTimestamp ?? '').sort()[0];
    const names = new Set(['default', 'kube-node-lease', 'kube-public', 'kube-system', ...pods.map((p) => p.metadata.namespace ?? 'default')]);
    return [...names].sort().map((name) => ({
      apiVersion: 'v1', kind: 'Namespace', metadata: { name, creationTimestamp: oldest }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' },
    }));
  }

  // --- get --------------------------------------------------------------------------------------

  private async get(flags: Flags): Promise<number> {
    if (flags.positional.length === 0) {
      throw new UsageError('You must specify the type of resource to get. Use "kubectl api-resources" for a complete list of supported resources.\n\nerror: Required resource not specified.\nUse "kubectl explain <resource>" for a detailed description of that resource (e.g. kubectl explain pods).\nSee \'kubectl get -h\' for help and examples\n');
    }
    const output = flags.output;
    if (output !== undefined && !['wide', 'yaml', 'json', 'name'].includes(output)) {
      throw new UsageError(`error: unable to match a printer suitable for the output format "${output}", allowed formats are: json,name,wide,yaml\n`);
    }
    const { kind, names } = resourceArgs(flags.positional);
    let items: StoredObject[];
    let notFound = '';
    if (names.length > 0) {
      items = [];
      for (const name of names) {
        if (kind === 'namespaces') {
          const ns = (await this.namespaces()).find((n) => n.metadata.name === name);
          if (ns) items.push(ns);
          else notFound += `Error from server (NotFound): namespaces "${name}" not found\n`;
          continue;
        }
        const namespace = KINDS[kind].namespaced ? this.namespaceOf(flags) : undefined;
        const result = await this.io.client.get(kind, name, namespace);
        if (result.ok) items.push(result.value);
        else if (result.status.reason === 'NotFound') notFound += `Error from server (NotFound): ${pluralName(kind)} "${name}" not found\n`;
        else this.fail(result.status, kind);
      }
    } else {
      items = await this.listOf(kind, flags);
    }
    if (output === 'yaml' || output === 'json') {
      const body = names.length === 1 && items.length === 1
        ? items[0]
        : { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '', selfLink: '' } };
      if (items.length > 0 || names.length !== 1) this.io.stdout(output === 'yaml' ? toYaml(body) : toJson(body, 4));
    } else if (output === 'name') {
      for (const item of items) this.io.stdout(`${typeName(kind)}/${item.metadata.name}\n`);
    } else if (items.length > 0) {
      const [header, ...rows] = this.rows(kind, items, flags);
      this.io.stdout(table(flags.noHeaders ? rows : [header!, ...rows], KUBECTL_TABLE));
    } else if (names.length === 0) {
      const scope = kind !== 'namespaces' && KINDS[kind].namespaced && !flags.allNamespaces ? ` in ${this.namespaceOf(flags)} namespace` : '';
      this.io.stderr(`No resources found${scope}.\n`);
    }
    if (notFound) {
      this.io.stderr(notFound);
      return 1;
    }
    return 0;
  }

  private rows(kind: Resource, items: StoredObject[], flags: Flags): string[][] {
    const now = this.io.now();
    const wide = flags.output === 'wide';
    const labels = (o: StoredObject) => Object.entries(o.metadata.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(',') || '<none>';
    let header: string[];
    let rows: string[][];
    switch (kind) {
      case 'nodes': {
        header = ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'];
        if (wide) header.push('INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME');
        rows = (items as KubeNode[]).map((node) => {
          const row = [node.metadata.name, nodeStatus(node), nodeRoles(node), age(node.metadata.creationTimestamp, now), node.status?.nodeInfo.kubeletVersion ?? ''];
          if (wide) {
            const address = (type: string) => node.status?.addresses.find((a) => a.type === type)?.address ?? '<none>';
            const info = node.status?.nodeInfo;
            row.push(address('InternalIP'), address('ExternalIP'), info?.osImage ?? '<unknown>', info?.kernelVersion ?? '<unknown>', info?.containerRuntimeVersion ?? '<unknown>');
          }
          return row;
        });
        break;
      }
      case 'pods': {
        header = ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'];
        if (wide) header.push('IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES');
        rows = (items as Pod[]).map((pod) => {
          const statuses = pod.status?.containerStatuses ?? [];
          const row = [
            pod.metadata.name,
            `${statuses.filter((s) => s.ready).length}/${pod.spec.containers.length}`,
            pod.status?.phase ?? 'Pending',
            String(statuses.reduce((sum, s) => sum + s.restartCount, 0)),
            age(pod.metadata.creationTimestamp, now),
          ];
          if (wide) row.push(pod.status?.podIP || '<none>', pod.spec.nodeName || '<none>', '<none>', '<none>');
          return row;
        });
        if (flags.allNamespaces) {
          header.unshift('NAMESPACE');
          rows = rows.map((row, i) => [items[i]!.metadata.namespace ?? '', ...row]);
        }
        break;
      }
      case 'namespaces':
        header = ['NAME', 'STATUS', 'AGE'];
        rows = items.map((ns) => [ns.metadata.name, 'Active', age(ns.metadata.creationTimestamp, now)]);
        break;
      default:
        header = ['NAME', 'CREATED AT'];
        rows = items.map((o) => [o.metadata.name, o.metadata.creationTimestamp ?? '']);
    }
    if (flags.showLabels) {
      header.push('LABELS');
      rows = rows.map((row, i) => [...row, labels(items[i]!)]);
    }
    return [header, ...rows];
  }

  // --- label ------------------------------------------------------------------------------------

  private async label(flags: Flags): Promise<number> {
    if (flags.positional.length < 2) throw new UsageError("error: one or more resources must be specified as <resource> <name> or <resource>/<name>\nSee 'kubectl label -h' for help and examples\n");
    const changes = flags.positional.filter((p) => p.includes('=') || p.endsWith('-'));
    const targets = flags.positional.filter((p) => !changes.includes(p));
    if (changes.length === 0) throw new UsageError("error: at least one label update is required\nSee 'kubectl label -h' for help and examples\n");
    const { kind, names } = resourceArgs(targets);
    if (kind === 'namespaces') throw new UsageError('error: the lab\'s kubectl does not label namespaces\n');
    const set = new Map<string, string>();
    const remove: string[] = [];
    for (const change of changes) {
      if (change.endsWith('-') && !change.includes('=')) remove.push(change.slice(0, -1));
      else {
        const [key, ...value] = change.split('=');
        set.set(key!, value.join('='));
      }
    }
    const objects: StoredObject[] = [];
    if (flags.selector !== undefined || names.length === 0) objects.push(...(await this.listOf(kind, flags)));
    for (const name of names) objects.push(this.must(await this.io.client.get(kind, name, KINDS[kind].namespaced ? this.namespaceOf(flags) : undefined), kind));
    for (const object of objects) {
      const labels = { ...(object.metadata.labels ?? {}) };
      for (const key of set.keys()) {
        if (!flags.overwrite && Object.hasOwn(labels, key)) {
          throw new RequestFailed(`error: '${key}' already has a value (${labels[key]}), and --overwrite is false\n`);
        }
      }
      const before = JSON.stringify(labels);
      for (const key of remove) {
        if (!Object.hasOwn(labels, key)) this.io.stdout(`label "${key}" not found.\n`);
        delete labels[key];
      }
      for (const [key, value] of set) labels[key] = value;
      const ref = `${typeName(kind)}/${object.metadata.name}`;
      if (JSON.stringify(labels) === before) {
        this.io.stdout(`${ref} not labeled\n`);
        continue;
      }
      object.metadata.labels = labels;
      this.must(await this.io.client.update(kind, object.metadata.name, object, { namespace: object.metadata.namespace }), kind);
      this.io.stdout(`${ref} ${set.size === 0 ? 'unlabeled' : 'labeled'}\n`);
    }
    return 0;
  }

  // --- apply ------------------------------------------------------------------------------------

  private async readSource(file: string): Promise<{ text: string; source: string }> {
    if (file === '-') return { text: await this.io.readStdin(), source: 'STDIN' };
    try {
      return { text: await this.io.readFile(file), source: file };
    } catch {
      throw new RequestFailed(`error: the path "${file}" does not exist\n`);
    }
  }

  /** Parses multi-document YAML (or JSON) into objects, with kubectl's errors for what it refuses. */
  private async documents(flags: Flags, command: string): Promise<Array<{ key: KindKey; object: Record<string, unknown>; source: string }>> {
    if (flags.filenames.length === 0) throw new UsageError(`error: must specify one of -f and -k\n\n`);
    const out: Array<{ key: KindKey; object: Record<string, unknown>; source: string }> = [];
    for (const file of flags.filenames) {
      const { text, source } = await this.readSource(file);
      for (const doc of parseAllDocuments(text, { version: '1.1' })) {
        if ('errors' in doc && doc.errors.length > 0) {
          throw new RequestFailed(`error: error parsing ${source}: error converting YAML to JSON: ${goYamlError(doc.errors[0]!, text)}\n`);
        }
        const value = doc.toJS() as unknown;
        if (value === null || value === undefined) continue;
        const items = isList(value) ? (value as { items: unknown[] }).items : [value];
        for (const item of items) {
          if (!item || typeof item !== 'object' || Array.isArray(item)) {
            throw new RequestFailed(`error: error validating "${source}": error validating data: invalid object to validate; if you choose to ignore these errors, turn validation off with --validate=false\n`);
          }
          const object = item as Record<string, unknown>;
          if (!object['kind']) throw new RequestFailed(`error: error validating "${source}": error validating data: kind not set; if you choose to ignore these errors, turn validation off with --validate=false\n`);
          if (!object['apiVersion']) throw new RequestFailed(`error: error validating "${source}": error validating data: apiVersion not set; if you choose to ignore these errors, turn validation off with --validate=false\n`);
          const key = kindKeyOf(object['apiVersion'], object['kind']);
          if (!key || key === 'blockaffinities') {
            throw new RequestFailed(`error: unable to recognize "${source}": no matches for kind "${String(object['kind'])}" in version "${String(object['apiVersion'])}"\n`);
          }
          const metadata = object['metadata'] as { name?: unknown } | undefined;
          if (!metadata || typeof metadata.name !== 'string' || metadata.name === '') {
            throw new RequestFailed(`error: error when retrieving current configuration of:\nResource: "${pluralName(key)}", GroupVersionKind: "${String(object['apiVersion'])}, Kind=${String(object['kind'])}"\nName: "", Namespace: "${flags.namespace ?? 'default'}"\nfrom server for: "${source}": resource name may not be empty\n`);
          }
          out.push({ key, object, source });
        }
      }
    }
    if (out.length === 0 && command === 'apply') throw new RequestFailed('error: no objects passed to apply\n');
    return out;
  }

  private async apply(flags: Flags): Promise<number> {
    const documents = await this.documents(flags, 'apply');
    // Every object is checked by the server (a dry run) before any is written: bad input changes nothing.
    const plans: Array<{ key: KindKey; name: string; namespace?: string; desired: StoredObject; action: 'created' | 'configured' | 'unchanged' }> = [];
    for (const { key, object } of documents) {
      const namespace = KINDS[key].namespaced ? ((object['metadata'] as { namespace?: string }).namespace ?? this.namespaceOf(flags)) : undefined;
      const name = (object['metadata'] as { name: string }).name;
      const applied = JSON.stringify(object);
      const current = await this.io.client.get(key, name, namespace);
      if (!current.ok && current.status.reason !== 'NotFound') this.fail(current.status, key);
      let desired: StoredObject;
      let action: 'created' | 'configured' | 'unchanged';
      if (!current.ok) {
        desired = withLastApplied(structuredClone(object) as unknown as StoredObject, applied);
        if (namespace) desired.metadata.namespace = namespace;
        action = 'created';
        const check = await this.io.client.create(key, desired, { dryRun: true, namespace });
        if (!check.ok) this.fail(check.status, key);
      } else {
        desired = mergeApplied(current.value, object, applied);
        action = sameContent(current.value, desired) ? 'unchanged' : 'configured';
        if (action === 'configured') {
          const check = await this.io.client.update(key, name, desired, { dryRun: true, namespace });
          if (!check.ok) this.fail(check.status, key);
        }
      }
      plans.push({ key, name, namespace, desired, action });
    }
    for (const plan of plans) {
      if (plan.action === 'created') this.must(await this.io.client.create(plan.key, plan.desired, { namespace: plan.namespace }), plan.key);
      if (plan.action === 'configured') this.must(await this.io.client.update(plan.key, plan.name, plan.desired, { namespace: plan.namespace }), plan.key);
      this.io.stdout(`${typeName(plan.key)}/${plan.name} ${plan.action}\n`);
    }
    return 0;
  }

  // --- delete -----------------------------------------------------------------------------------

  private async remove(flags: Flags): Promise<number> {
    const targets: Array<{ kind: KindKey; name: string; namespace?: string }> = [];
    if (flags.filenames.length > 0) {
      for (const { key, object } of await this.documents(flags, 'delete')) {
        const meta = object['metadata'] as { name: string; namespace?: string };
        targets.push({ kind: key, name: meta.name, namespace: KINDS[key].namespaced ? (meta.namespace ?? this.namespaceOf(flags)) : undefined });
      }
    } else {
      if (flags.positional.length === 0) throw new UsageError("error: You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'\n");
      const { kind, names } = resourceArgs(flags.positional);
      if (kind === 'namespaces') throw new UsageError('error: the lab\'s kubectl does not delete namespaces\n');
      if (names.length === 0 && flags.selector === undefined) {
        throw new UsageError('error: resource(s) were provided, but no name, label selector, or --all flag specified\n');
      }
      const namespace = KINDS[kind].namespaced ? this.namespaceOf(flags) : undefined;
      if (flags.selector !== undefined) {
        for (const item of await this.listOf(kind, flags)) targets.push({ kind, name: item.metadata.name, namespace: item.metadata.namespace });
        if (targets.length === 0) {
          this.io.stdout('No resources found\n');
          return 0;
        }
      }
      for (const name of names) targets.push({ kind, name, namespace });
    }
    let code = 0;
    for (const target of targets) {
      const result = await this.io.client.delete(target.kind, target.name, target.namespace);
      if (result.ok) this.io.stdout(`${typeName(target.kind)} "${target.name}" deleted\n`);
      else if (result.status.reason === 'NotFound') {
        this.io.stderr(`Error from server (NotFound): ${pluralName(target.kind)} "${target.name}" not found\n`);
        code = 1;
      } else this.fail(result.status, target.kind);
    }
    return code;
  }

  // --- exec -------------------------------------------------------------------------------------

  private async exec(flags: Flags): Promise<number> {
    const [podName, ...legacy] = flags.positional;
    if (!podName) throw new UsageError("error: pod or type/name must be specified\nSee 'kubectl exec -h' for help and examples\n");
    const command = flags.command.length > 0 ? flags.command : legacy;
    if (command.length === 0) throw new UsageError("error: you must specify at least one command for the container\nSee 'kubectl exec -h' for help and examples\n");
    const name = podName.startsWith('pod/') || podName.startsWith('po/') ? podName.slice(podName.indexOf('/') + 1) : podName;
    const pod = this.must(await this.io.client.get('pods', name, this.namespaceOf(flags)), 'pods') as Pod;
    if (!this.io.exec) throw new RequestFailed('error: unable to upgrade connection: kubectl exec reaches pods only from a shell inside the lab\n');
    const namespace = pod.metadata.namespace ?? 'default';
    return this.io.exec(
      {
        netns: pod.spec.hostNetwork ? pod.spec.nodeName! : podNetnsName(namespace, pod.metadata.name),
        hostname: pod.metadata.name,
        node: pod.spec.nodeName ?? '',
        hostNetwork: !!pod.spec.hostNetwork,
      },
      command,
    );
  }

  // --- describe ---------------------------------------------------------------------------------

  private async describe(flags: Flags): Promise<number> {
    if (flags.positional.length === 0) throw new UsageError("error: You must specify the type of resource to describe. Use \"kubectl api-resources\" for a complete list of supported resources.\n");
    const { kind, names } = resourceArgs(flags.positional);
    if (kind !== 'nodes') throw new UsageError(`error: the lab's kubectl describes nodes only (kubectl describe node NAME)\n`);
    const nodes = names.length > 0
      ? await Promise.all(names.map(async (name) => this.must(await this.io.client.get('nodes', name), 'nodes') as KubeNode))
      : (await this.listOf('nodes', flags)) as KubeNode[];
    const pods = this.must(await this.io.client.list('pods'), 'pods').items as Pod[];
    this.io.stdout(nodes.map((node) => describeNode(node, pods.filter((p) => p.spec.nodeName === node.metadata.name), this.io.now())).join('\n\n'));
    return 0;
  }
}

class RequestFailed extends Error {}

function isList(value: unknown): boolean {
  return !!value && typeof value === 'object' && Array.isArray((value as { items?: unknown }).items) && String((value as { kind?: unknown }).kind ?? '').endsWith('List');
}

function withLastApplied(object: StoredObject, applied: string): StoredObject {
  object.metadata ??= { name: '' };
  object.metadata.annotations = { ...(object.metadata.annotations ?? {}), [ANNOTATION_LAST_APPLIED]: `${applied}\n` };
  return object;
}

/**
 * kubectl apply's three-way merge, for the flat specs of the lab's resources: fields in the new
 * configuration win; fields the previous configuration set and the new one omits are removed;
 * fields nobody applied (set by other writers) are kept.
 */
function mergeApplied(current: StoredObject, applied: Record<string, unknown>, appliedText: string): StoredObject {
  const previous = safeJson(current.metadata.annotations?.[ANNOTATION_LAST_APPLIED]);
  const merged = structuredClone(current);
  const mergeMap = (live: Record<string, unknown> | undefined, next: Record<string, unknown> | undefined, last: Record<string, unknown> | undefined) => {
    const out: Record<string, unknown> = { ...(live ?? {}) };
    for (const key of Object.keys(last ?? {})) if (!next || !Object.hasOwn(next, key)) delete out[key];
    for (const [key, value] of Object.entries(next ?? {})) out[key] = value;
    return out;
  };
  const appliedMeta = (applied['metadata'] ?? {}) as { labels?: Record<string, string>; annotations?: Record<string, string> };
  const previousMeta = (previous?.['metadata'] ?? {}) as { labels?: Record<string, string>; annotations?: Record<string, string> };
  const labels = mergeMap(current.metadata.labels, appliedMeta.labels, previousMeta.labels) as Record<string, string>;
  merged.metadata.labels = Object.keys(labels).length > 0 ? labels : undefined;
  const annotations = mergeMap(current.metadata.annotations, appliedMeta.annotations, previousMeta.annotations) as Record<string, string>;
  annotations[ANNOTATION_LAST_APPLIED] = `${appliedText}\n`;
  merged.metadata.annotations = annotations;
  if ('spec' in applied || previous?.['spec']) {
    merged.spec = mergeMap(current.spec as Record<string, unknown>, applied['spec'] as Record<string, unknown>, previous?.['spec'] as Record<string, unknown>);
  }
  return merged;
}

function safeJson(text: string | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined; // a hand-edited annotation: treat as no previous configuration
  }
}

/** Whether applying would change anything (the AS number "65101" and 65101 are the same). */
function sameContent(current: StoredObject, desired: StoredObject): boolean {
  const normal = (o: StoredObject) => JSON.stringify(toComparable({ labels: o.metadata.labels ?? {}, annotations: o.metadata.annotations ?? {}, spec: o.spec ?? {} }));
  return normal(current) === normal(desired);
}

function toComparable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toComparable);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, k === 'asNumber' || k === 'localASNumber' ? String(v) : toComparable(v)]));
  }
  return value;
}

export function nodeStatus(node: KubeNode): string {
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  return `${ready ? 'Ready' : 'NotReady'}${node.spec.unschedulable ? ',SchedulingDisabled' : ''}`;
}

export function nodeRoles(node: KubeNode): string {
  const roles = Object.keys(node.metadata.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
    .sort();
  return roles.join(',') || '<none>';
}

function rfc1123(timestamp: string | null | undefined): string {
  if (!timestamp) return '<unknown>';
  return new Date(timestamp).toUTCString().replace('GMT', '+0000');
}

function describeNode(node: KubeNode, pods: Pod[], now: number): string {
  const block = (rows: string[][]) => table(rows, { minWidth: 0, padding: 2, padLastColumn: false });
  const multi = (label: string, values: string[]) => (values.length === 0 ? [[label, '<none>']] : values.map((v, i) => [i === 0 ? label : '', v]));
  const labels = Object.entries(node.metadata.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`);
  const annotations = Object.entries(node.metadata.annotations ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}: ${v}`);
  const taints = (node.spec.taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`);
  const ready = nodeStatus(node).startsWith('Ready');
  if (!ready) taints.push('node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule');
  const head = block([
    ['Name:', node.metadata.name],
    ['Roles:', nodeRoles(node)],
    ...multi('Labels:', labels),
    ...multi('Annotations:', annotations),
    ['CreationTimestamp:', rfc1123(node.metadata.creationTimestamp)],
    ...multi('Taints:', taints),
    ['Unschedulable:', String(!!node.spec.unschedulable)],
  ]);
  const conditions = block([
    ['  Type', 'Status', 'LastHeartbeatTime', 'LastTransitionTime', 'Reason', 'Message'],
    ['  ----', '------', '-----------------', '------------------', '------', '-------'],
    ...(node.status?.conditions ?? []).map((c) => [`  ${c.type}`, c.status, rfc1123(c.lastHeartbeatTime), rfc1123(c.lastTransitionTime), c.reason ?? '', c.message ?? '']),
  ]);
  const addresses = block((node.status?.addresses ?? []).map((a) => [`  ${a.type}:`, a.address]));
  const capacity = block(Object.entries(node.status?.capacity ?? {}).map(([k, v]) => [`  ${k}:`, v]));
  const info = node.status?.nodeInfo;
  const system = block([
    ['  Kernel Version:', info?.kernelVersion ?? ''],
    ['  OS Image:', info?.osImage ?? ''],
    ['  Operating System:', info?.operatingSystem ?? 'linux'],
    ['  Architecture:', info?.architecture ?? 'amd64'],
    ['  Container Runtime Version:', info?.containerRuntimeVersion ?? ''],
    ['  Kubelet Version:', info?.kubeletVersion ?? ''],
    ['  Kube-Proxy Version:', info?.kubeletVersion ?? ''],
  ]);
  const cidr = block([
    ['PodCIDR:', node.spec.podCIDR ?? ''],
    ['PodCIDRs:', node.spec.podCIDR ?? ''],
    ['Non-terminated Pods:', `(${pods.length} in total)`],
  ]);
  const podTable = block([
    ['  Namespace', 'Name', 'CPU Requests', 'CPU Limits', 'Memory Requests', 'Memory Limits', 'AGE'],
    ['  ---------', '----', '------------', '----------', '---------------', '-------------', '---'],
    ...pods.map((p) => [`  ${p.metadata.namespace}`, p.metadata.name, '0 (0%)', '0 (0%)', '0 (0%)', '0 (0%)', age(p.metadata.creationTimestamp, now)]),
  ]);
  return `${head}Conditions:\n${conditions}Addresses:\n${addresses}Capacity:\n${capacity}System Info:\n${system}${cidr}${podTable}Events:              <none>\n`;
}

const HELP = `kubectl controls the Kubernetes cluster manager (the lab's cluster).

Basic Commands:
  get            Display one or many resources
  label          Update the labels on a resource
  apply          Apply a configuration to a resource by filename or stdin
  delete         Delete resources by filenames, stdin, resources and names, or by label selector
  exec           Execute a command in a container
  describe       Show details of a specific resource

Resources: nodes (no), pods (po), namespaces (ns), bgppeers, bgpconfigurations, ippools.

Usage:
  kubectl [flags] [options]
`;
