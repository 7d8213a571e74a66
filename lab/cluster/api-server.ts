// The lab's API server: a small HTTP JSON server over the datastore. Every write is decoded with
// its kind's schema and validated with Calico's rules before the datastore sees it, so bad input
// changes nothing. It also plays the parts of the control plane the walkthrough shows at work:
// the node lifecycle controller (Ready from kubelet heartbeats, NotReady after a grace period), and
// the ReplicaSet/DaemonSet controllers with the scheduler and Calico IPAM (a deleted coredns pod
// comes back on a Ready node with an address from that node's block).

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomInt } from 'node:crypto';
import { API_PREFIX, MAX_BODY_BYTES, MAX_WATCH_WAIT_MS, type Status, type StatusReason } from './api.ts';
import { cidrContains, ipv4ToNumber, numberToIpv4, parseCidr4, cidrSize } from './ip.ts';
import { LabelSelectorError, labelsMatch, parseLabelSelector } from './label-selector.ts';
import {
  ANNOTATION_AS, ANNOTATION_IPV4, KINDS, decode, isKindKey, parseASNumber,
  type BlockAffinity, type KindKey, type KubeNode, type Pod, type StoredObject,
} from './resources.ts';
import type { Store, StoreError } from './store.ts';
import { validate, type FieldError } from './validation.ts';

/**
 * How long a node may go without a kubelet heartbeat before it is NotReady. Kubernetes' default
 * (node-monitor-grace-period) is 40 s; a lesson cannot wait that long, so the lab uses 10 s.
 */
export const NODE_GRACE_PERIOD_MS = 10_000;

export interface PodHooks {
  /** A pod the controllers created (for the fabric to give it a network namespace). */
  created?(pod: Pod): void | Promise<void>;
  /** A pod that was deleted. */
  deleted?(pod: Pod): void | Promise<void>;
}

export interface ApiServerOptions {
  store: Store;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
  gracePeriodMs?: number;
  podHooks?: PodHooks;
  /** Reports problems the server cannot answer with (a failing pod hook). */
  log?: (message: string) => void;
}

function status(reason: StatusReason, code: number, message: string, details: Status['details'] = {}): Status {
  return { kind: 'Status', status: 'Failure', reason, code, message, details };
}

const RESOURCE_NAMES: Record<KindKey, string> = {
  nodes: 'nodes', pods: 'pods', bgppeers: 'bgppeers.crd.projectcalico.org', bgpconfigurations: 'bgpconfigurations.crd.projectcalico.org',
  ippools: 'ippools.crd.projectcalico.org', blockaffinities: 'blockaffinities.crd.projectcalico.org',
};

function storeErrorStatus(error: StoreError): Status {
  const resource = RESOURCE_NAMES[error.kind];
  const details = { kind: KINDS[error.kind].kind, name: error.name, namespace: error.namespace };
  switch (error.reason) {
    case 'NotFound':
      return status('NotFound', 404, `${resource} "${error.name}" not found`, details);
    case 'AlreadyExists':
      return status('AlreadyExists', 409, `${resource} "${error.name}" already exists`, details);
    case 'Conflict':
      return status('Conflict', 409, `Operation cannot be fulfilled on ${resource} "${error.name}": the object has been modified; please apply your changes to the latest version and try again`, details);
  }
}

/** Kubernetes' random suffix alphabet (no vowels, no confusable digits). */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
export function randomSuffix(length = 5): string {
  let s = '';
  for (let i = 0; i < length; i++) s += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return s;
}

export class ApiServer {
  readonly store: Store;
  private readonly now: () => number;
  private readonly gracePeriodMs: number;
  private readonly startedAt: number;
  private readonly heartbeats = new Map<string, { at: number; from: string }>();
  private readonly podHooks: PodHooks;
  private readonly log: (message: string) => void;
  private server: Server | undefined;
  private readonly watchAborts = new Set<AbortController>();

  constructor(options: ApiServerOptions) {
    this.store = options.store;
    this.now = options.now ?? Date.now;
    this.gracePeriodMs = options.gracePeriodMs ?? NODE_GRACE_PERIOD_MS;
    this.startedAt = this.now();
    this.podHooks = options.podHooks ?? {};
    this.log = options.log ?? ((message) => process.stderr.write(`${message}\n`));
  }

  /** Starts listening; resolves with the bound address. */
  listen(port: number, host: string): Promise<AddressInfo> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        // A bug in a handler: answer 500 rather than leave the client hanging, and say what it was.
        this.log(`api-server: ${req.method} ${req.url}: ${error instanceof Error ? error.stack : String(error)}`);
        if (!res.headersSent) this.send(res, 500, status('InternalError', 500, 'internal error'));
        else res.end();
      });
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(server.address() as AddressInfo);
      });
    });
  }

  async close(): Promise<void> {
    for (const abort of this.watchAborts) abort.abort();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  // --- Node readiness ---------------------------------------------------------------------------

  heartbeat(node: string, from: string): boolean {
    if (!this.store.get('nodes', node)) return false;
    this.heartbeats.set(node, { at: this.now(), from });
    return true;
  }

  /** Ready while heartbeats keep coming; the server's start counts as one (a fresh grace period). */
  isReady(node: string): boolean {
    const last = Math.max(this.heartbeats.get(node)?.at ?? 0, this.startedAt);
    return this.now() - last <= this.gracePeriodMs;
  }

  private withConditions(node: KubeNode): KubeNode {
    const beat = this.heartbeats.get(node.metadata.name);
    const ready = this.isReady(node.metadata.name);
    const at = new Date(beat?.at ?? this.startedAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const condition = (type: string, ok: string, reason: string, message: string) => ({
      type,
      status: ready ? ok : 'Unknown',
      reason: ready ? reason : 'NodeStatusUnknown',
      message: ready ? message : 'Kubelet stopped posting node status.',
      lastHeartbeatTime: at,
      lastTransitionTime: at,
    });
    node.status ??= { addresses: [], nodeInfo: { kubeletVersion: '', osImage: '', kernelVersion: '', containerRuntimeVersion: '', architecture: 'amd64', operatingSystem: 'linux' } };
    node.status.conditions = [
      condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status. AppArmor enabled'),
    ];
    return node;
  }

  private present(kind: KindKey, object: StoredObject): StoredObject {
    return kind === 'nodes' ? this.withConditions(object as KubeNode) : object;
  }

  // --- HTTP -------------------------------------------------------------------------------------

  private send(res: ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  private fail(res: ServerResponse, failure: Status): void {
    this.send(res, failure.code, failure);
  }

  private async readBody(req: IncomingMessage): Promise<{ ok: true; value: unknown } | { ok: false; status: Status }> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) return { ok: false, status: status('BadRequest', 413, `request body larger than ${MAX_BODY_BYTES} bytes`) };
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch (error) {
      return { ok: false, status: status('BadRequest', 400, `invalid JSON in request body: ${(error as Error).message}`) };
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://api');
    if (url.pathname === '/healthz') return this.send(res, 200, { ok: true, revision: this.store.revision });
    if (!url.pathname.startsWith(`${API_PREFIX}/`)) return this.fail(res, status('NotFound', 404, `no such path ${url.pathname}`));
    const parts = url.pathname.slice(API_PREFIX.length + 1).split('/').map(decodeURIComponent);
    const method = req.method ?? 'GET';

    if (parts[0] === 'watch' && parts.length === 1 && method === 'GET') return this.watch(res, url);
    if (parts[0] === 'heartbeat' && parts.length === 2 && method === 'POST') {
      const node = parts[1]!;
      const from = req.socket.remoteAddress ?? '';
      if (!this.heartbeat(node, from)) return this.fail(res, storeErrorStatus({ reason: 'NotFound', kind: 'nodes', name: node }));
      return this.send(res, 200, { node, ready: this.isReady(node), from });
    }

    const kind = parts[0] ?? '';
    if (!isKindKey(kind)) return this.fail(res, status('NotFound', 404, `the server could not find the requested resource (${kind})`));
    const name = parts[1];
    if (parts.length > 2) return this.fail(res, status('NotFound', 404, `no such path ${url.pathname}`));
    const namespace = KINDS[kind].namespaced ? (url.searchParams.get('namespace') ?? undefined) : undefined;
    const dryRun = url.searchParams.get('dryRun') === 'All';

    if (method === 'GET' && name === undefined) return this.list(res, kind, namespace, url.searchParams.get('labelSelector'));
    if (method === 'GET') {
      const found = this.store.get(kind, name!, namespace);
      if (!found) return this.fail(res, storeErrorStatus({ reason: 'NotFound', kind, name: name!, namespace }));
      return this.send(res, 200, this.present(kind, found));
    }
    if (method === 'DELETE' && name !== undefined) return this.remove(res, kind, name, namespace);
    if ((method === 'POST' && name === undefined) || (method === 'PUT' && name !== undefined)) {
      const body = await this.readBody(req);
      if (!body.ok) return this.fail(res, body.status);
      const checked = this.check(kind, body.value, name, namespace);
      if (!checked.ok) return this.fail(res, checked.status);
      const object = checked.object;
      if (dryRun) {
        const existing = this.store.get(kind, object.metadata.name, object.metadata.namespace);
        if (method === 'POST' && existing) return this.fail(res, storeErrorStatus({ reason: 'AlreadyExists', kind, name: object.metadata.name, namespace: object.metadata.namespace }));
        if (method === 'PUT' && !existing) return this.fail(res, storeErrorStatus({ reason: 'NotFound', kind, name: object.metadata.name, namespace: object.metadata.namespace }));
        return this.send(res, 200, object);
      }
      if (method === 'POST' && kind === 'pods') {
        const placed = this.placePod(object as Pod);
        if (!placed.ok) return this.fail(res, placed.status);
      }
      const result = method === 'POST' ? this.store.create(kind, object, this.now()) : this.store.update(kind, object);
      if (!result.ok) return this.fail(res, storeErrorStatus(result.error));
      if (method === 'POST' && kind === 'pods') await this.runHook('created', result.object as Pod);
      return this.send(res, method === 'POST' ? 201 : 200, this.present(kind, result.object));
    }
    return this.fail(res, status('MethodNotAllowed', 405, `${method} is not supported on ${url.pathname}`));
  }

  private list(res: ServerResponse, kind: KindKey, namespace: string | undefined, labelSelector: string | null): void {
    let items = this.store.list(kind, namespace);
    if (labelSelector) {
      try {
        const requirements = parseLabelSelector(labelSelector);
        items = items.filter((item) => labelsMatch(requirements, item.metadata.labels ?? {}));
      } catch (error) {
        if (!(error instanceof LabelSelectorError)) throw error;
        return this.fail(res, status('BadRequest', 400, `Unable to find "${KINDS[kind].apiVersion === 'v1' ? '/v1' : 'projectcalico.org/v3'}, Resource=${kind}" that match label selector "${labelSelector}", field selector "": ${error.message}`));
      }
    }
    this.send(res, 200, { revision: this.store.revision, items: items.map((item) => this.present(kind, item)) });
  }

  /** Decodes and validates a written object; the name in the path must match the body's. */
  private check(kind: KindKey, body: unknown, pathName: string | undefined, namespace: string | undefined):
    { ok: true; object: StoredObject } | { ok: false; status: Status } {
    const decoded = decode(KINDS[kind].schema as never, body) as ReturnType<typeof decode<StoredObject>>;
    const bodyName = (body as { metadata?: { name?: unknown } } | null)?.metadata?.name;
    const name = typeof bodyName === 'string' ? bodyName : '';
    if (!decoded.ok) {
      return { ok: false, status: status('BadRequest', 400, decoded.errors.map((e) => e.message).join('; '), { kind: KINDS[kind].kind, name, decodeErrors: decoded.errors }) };
    }
    const object = decoded.value;
    if (pathName !== undefined && object.metadata.name !== pathName) {
      return { ok: false, status: status('BadRequest', 400, `the name of the object (${object.metadata.name}) does not match the name on the URL (${pathName})`) };
    }
    if (KINDS[kind].namespaced) object.metadata.namespace = object.metadata.namespace ?? namespace ?? 'default';
    else delete object.metadata.namespace;
    const errors: FieldError[] = validate(kind, object);
    if (kind === 'nodes') errors.push(...this.checkNodeAnnotations(object as KubeNode));
    if (errors.length > 0) {
      const kindName = KINDS[kind].kind;
      return { ok: false, status: status('Invalid', 422, `${kindName} "${object.metadata.name}" is invalid`, { kind: kindName, name: object.metadata.name, causes: errors }) };
    }
    return { ok: true, object };
  }

  /** Calico keeps a node's BGP spec in annotations; they must parse as Calico would. */
  private checkNodeAnnotations(node: KubeNode): FieldError[] {
    const errors: FieldError[] = [];
    const annotations = node.metadata.annotations ?? {};
    const as = annotations[ANNOTATION_AS];
    if (as !== undefined && parseASNumber(as) === undefined) errors.push({ name: 'ASNumber', value: as, reason: `invalid AS Number format (${as})` });
    const ipv4 = annotations[ANNOTATION_IPV4];
    if (ipv4 !== undefined && !parseCidr4(ipv4)) {
      errors.push({ name: 'IPv4Address', value: ipv4, reason: 'Reason: failed to validate Field: IPv4Address because of Tag: cidrv4 ' });
    }
    return errors;
  }

  private async remove(res: ServerResponse, kind: KindKey, name: string, namespace: string | undefined): Promise<void> {
    const result = this.store.delete(kind, name, namespace ?? (KINDS[kind].namespaced ? 'default' : undefined));
    if (!result.ok) return this.fail(res, storeErrorStatus(result.error));
    if (kind === 'pods') {
      await this.runHook('deleted', result.object as Pod);
      await this.replace(result.object as Pod);
    }
    this.send(res, 200, result.object);
  }

  private async runHook(which: 'created' | 'deleted', pod: Pod): Promise<void> {
    const hook = this.podHooks[which];
    if (!hook) return;
    try {
      await hook(pod);
    } catch (error) {
      // The datastore is the source of truth; a pod without its namespace is reported, not undone.
      this.log(`api-server: pod hook "${which}" failed for ${pod.metadata.namespace}/${pod.metadata.name}: ${(error as Error).message}`);
    }
  }

  // --- Controllers, scheduler and IPAM ----------------------------------------------------------

  /** The ReplicaSet/DaemonSet/static-pod controllers: a deleted owned pod is replaced. */
  private async replace(deleted: Pod): Promise<void> {
    const owner = deleted.metadata.ownerReferences?.find((o) => o.controller);
    if (!owner) return;
    const replacement: Pod = structuredClone(deleted);
    delete replacement.metadata.uid;
    delete replacement.metadata.resourceVersion;
    delete replacement.metadata.creationTimestamp;
    replacement.status = { phase: 'Running', containerStatuses: (deleted.spec.containers ?? []).map((c) => ({ name: c.name, ready: true, restartCount: 0 })) };
    if (owner.kind === 'ReplicaSet') {
      replacement.metadata.name = `${owner.name}-${randomSuffix()}`;
      delete replacement.spec.nodeName;
    } else if (owner.kind === 'DaemonSet') {
      replacement.metadata.name = `${owner.name}-${randomSuffix()}`;
    } else if (owner.kind !== 'Node') {
      return;
    }
    const placed = this.placePod(replacement);
    if (!placed.ok) {
      this.log(`api-server: cannot place a replacement for ${deleted.metadata.namespace}/${deleted.metadata.name}: ${placed.status.message}`);
      return;
    }
    const result = this.store.create('pods', replacement, this.now());
    if (result.ok) await this.runHook('created', result.object as Pod);
  }

  /** Schedules a pod without a node and gives a pod network pod an address from its node's block. */
  private placePod(pod: Pod): { ok: true } | { ok: false; status: Status } {
    const pods = this.store.list('pods') as Pod[];
    if (!pod.spec.nodeName) {
      const node = this.schedule(pod, pods);
      if (!node) return { ok: false, status: status('BadRequest', 400, `0/${this.store.list('nodes').length} nodes are available for pod ${pod.metadata.name}`) };
      pod.spec.nodeName = node.metadata.name;
    }
    const node = this.store.get('nodes', pod.spec.nodeName) as KubeNode | undefined;
    if (!node) return { ok: false, status: storeErrorStatus({ reason: 'NotFound', kind: 'nodes', name: pod.spec.nodeName }) };
    const nodeIP = node.status?.addresses.find((a) => a.type === 'InternalIP')?.address;
    pod.status ??= {};
    pod.status.hostIP = nodeIP;
    pod.status.phase ??= 'Running';
    pod.status.startTime ??= new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    if (pod.spec.hostNetwork) pod.status.podIP = nodeIP;
    else if (!pod.status.podIP) {
      const ip = this.allocate(node.metadata.name, pods);
      if (!ip) return { ok: false, status: status('BadRequest', 400, `no free address in the IPAM blocks of ${node.metadata.name}`) };
      pod.status.podIP = ip;
    }
    return { ok: true };
  }

  /**
   * kube-scheduler, reduced to what the lab needs: Ready nodes whose taints the pod tolerates and
   * whose labels match its nodeSelector; the least loaded wins (ties by name).
   */
  private schedule(pod: Pod, pods: readonly Pod[]): KubeNode | undefined {
    const candidates = (this.store.list('nodes') as KubeNode[]).filter((node) => {
      if (!this.isReady(node.metadata.name) || node.spec.unschedulable) return false;
      const tolerated = (node.spec.taints ?? []).every((taint) =>
        taint.effect !== 'NoSchedule' || (pod.spec.tolerations ?? []).some((t) => t.operator === 'Exists' && !t.key || (t.key === taint.key && (!t.effect || t.effect === taint.effect))));
      const selected = Object.entries(pod.spec.nodeSelector ?? {}).every(([k, v]) => node.metadata.labels?.[k] === v);
      return tolerated && selected;
    });
    const load = (node: KubeNode) => pods.filter((p) => p.spec.nodeName === node.metadata.name).length;
    return candidates.sort((a, b) => load(a) - load(b) || a.metadata.name.localeCompare(b.metadata.name))[0];
  }

  /** Calico IPAM: the lowest free address in the node's affine blocks. */
  private allocate(nodeName: string, pods: readonly Pod[]): string | undefined {
    const used = new Set(pods.map((p) => p.status?.podIP).filter((ip): ip is string => !!ip));
    const blocks = (this.store.list('blockaffinities') as BlockAffinity[]).filter((b) => b.spec.node === nodeName && b.spec.state === 'confirmed');
    for (const block of blocks) {
      const cidr = parseCidr4(block.spec.cidr);
      if (!cidr) continue;
      for (let i = 0; i < cidrSize(cidr); i++) {
        const ip = numberToIpv4(cidr.network + i);
        if (!used.has(ip) && cidrContains(cidr, ipv4ToNumber(ip))) return ip;
      }
    }
    return undefined;
  }

  // --- Watch ------------------------------------------------------------------------------------

  private async watch(res: ServerResponse, url: URL): Promise<void> {
    const since = Number(url.searchParams.get('since') ?? '0');
    const wait = Math.min(Number(url.searchParams.get('timeoutMs') ?? '0'), MAX_WATCH_WAIT_MS);
    if (!Number.isInteger(since) || since < 0 || !Number.isFinite(wait) || wait < 0) {
      return this.fail(res, status('BadRequest', 400, `watch needs since=<revision> and timeoutMs=<0..${MAX_WATCH_WAIT_MS}>; got ${url.search}`));
    }
    const abort = new AbortController();
    this.watchAborts.add(abort);
    // The client gave up (or the connection closed): stop waiting. Per response, not per socket,
    // since a kept-alive socket carries many watches.
    res.once('close', () => abort.abort());
    try {
      const events = await this.store.waitForEvents(since, wait, abort.signal);
      if (res.destroyed) return;
      if (events === 'gone') return this.fail(res, status('Gone', 410, `revision ${since} is too old; list again`));
      this.send(res, 200, { revision: this.store.revision, events });
    } finally {
      this.watchAborts.delete(abort);
    }
  }
}
