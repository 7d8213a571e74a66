// The calico-node agent of one node: watches the API server, renders the node's BIRD configuration
// from the resources (bird-render.ts) and the node's connected subnets, writes it atomically and
// asks BIRD to reload it (`configure` on its control socket), typically within tens of
// milliseconds of a change. It also re-renders on a slow timer, so an interface change or a
// configuration file replaced behind its back is corrected.

import { execFile } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { birdCommand } from './bird-socket.ts';
import { renderBirdConfig, renderInput, type ClusterResources } from './bird-render.ts';
import type { ApiClient } from './client.ts';
import type { BGPConfiguration, BGPPeer, BlockAffinity, IPPool, KindKey, KubeNode, Pod } from './resources.ts';

/** A watch is held this long; on timeout the agent re-checks interfaces and the file on disk. */
export const WATCH_WAIT_MS = 5_000;
/**
 * After the API server could not be reached, the agent tries again after RETRY_MS, doubling up to
 * MAX_RETRY_MS while it stays unreachable, as Kubernetes clients back off (client-go's reflector
 * starts at 0.8 s and caps at 30 s; the lab caps lower so a lesson does not wait long).
 */
export const RETRY_MS = 1_000;
export const MAX_RETRY_MS = 8_000;
/**
 * Until the API server has answered once (the lab is coming up: the fabric converges in about two
 * seconds), the agent asks again this often instead of backing off, so BIRD gets its configuration
 * as soon as the control path exists.
 */
export const STARTUP_POLL_MS = 200;
/** The kinds whose changes change a node's BIRD configuration (pods do not). */
const RELEVANT: ReadonlySet<KindKey> = new Set(['nodes', 'bgppeers', 'bgpconfigurations', 'ippools', 'blockaffinities']);

export interface ReloadResult {
  ok: boolean;
  message: string;
}

export interface AgentOptions {
  node: string;
  client: ApiClient;
  /** Where BIRD reads its configuration (layout.birdConfigPath). */
  configPath: string;
  /** BIRD's control socket (layout.birdSocketPath). */
  birdSocket: string;
  /** The node's connected subnets (CIDRs); by default from `ip -j -4 addr`. */
  connected?: () => Promise<string[]>;
  logFile?: string;
  log?: (message: string) => void;
  /** Called with every pod of the cluster at start and whenever pods change (the node's nginx redirects). */
  podsChanged?: (pods: Pod[]) => Promise<void>;
}

/** The subnets of this network namespace's IPv4 addresses, as `ip -j -4 addr` reports them. */
export function connectedSubnets(): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['-j', '-4', 'addr', 'show'], (error, stdout) => {
      if (error) {
        reject(new Error(`ip -j -4 addr show: ${error.message}`));
        return;
      }
      const links = JSON.parse(stdout) as Array<{ addr_info?: Array<{ local: string; prefixlen: number }> }>;
      resolve(links.flatMap((link) => (link.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`)));
    });
  });
}

export class CalicoNodeAgent {
  private readonly options: AgentOptions;
  private readonly log: (message: string) => void;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  /** Renders applied so far, and watch answers that carried events (for tests and the log). */
  renders = 0;
  eventBatches = 0;
  private lastProblem = '';

  constructor(options: AgentOptions) {
    this.options = options;
    this.log = options.log ?? ((message) => process.stdout.write(`${new Date().toISOString()} calico-node ${options.node}: ${message}\n`));
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private problem(message: string): void {
    if (message !== this.lastProblem) this.log(message);
    this.lastProblem = message;
  }

  /** Lists what the node's configuration depends on; the revision to watch from. */
  private async list(): Promise<{ revision: number; resources: ClusterResources } | undefined> {
    const { client } = this.options;
    const kinds = ['nodes', 'bgppeers', 'bgpconfigurations', 'ippools', 'blockaffinities'] as const;
    const results = await Promise.all(kinds.map((kind) => client.list(kind)));
    for (const result of results) {
      if (!result.ok) {
        this.problem(`cannot list resources: ${result.status.message}`);
        return undefined;
      }
    }
    const [nodes, peers, configurations, pools, blocks] = results.map((r) => (r.ok ? r.value : { revision: 0, items: [] }));
    return {
      // The oldest revision among the lists: watching from it replays anything that raced them.
      revision: Math.min(...results.map((r) => (r.ok ? r.value.revision : 0))),
      resources: {
        nodes: nodes!.items as KubeNode[],
        peers: peers!.items as BGPPeer[],
        configurations: configurations!.items as BGPConfiguration[],
        pools: pools!.items as IPPool[],
        blocks: blocks!.items as BlockAffinity[],
      },
    };
  }

  /** Renders and, when the file on disk differs, writes it and reloads BIRD. */
  async apply(resources: ClusterResources): Promise<boolean> {
    const { node, configPath } = this.options;
    if (!resources.nodes.some((n) => n.metadata.name === node)) {
      this.problem(`node ${node} is not in the cluster; BIRD's configuration is left as it is`);
      return false;
    }
    const connected = await (this.options.connected ?? connectedSubnets)();
    const text = renderBirdConfig(renderInput(resources, node, connected, this.options.logFile));
    let current: string | undefined;
    try {
      current = readFileSync(configPath, 'utf8');
    } catch {
      current = undefined; // no configuration yet
    }
    if (current === text) return false;
    mkdirSync(dirname(configPath), { recursive: true });
    const temp = `${configPath}.${process.pid}.tmp`;
    writeFileSync(temp, text);
    renameSync(temp, configPath);
    this.renders++;
    const result = await this.reload();
    this.log(`rendered ${configPath} (${result.ok ? result.message : `BIRD did not reload: ${result.message}`})`);
    return true;
  }

  /** `birdc configure`: BIRD re-reads its configuration, keeping the sessions that did not change. */
  async reload(): Promise<ReloadResult> {
    try {
      const reply = await birdCommand(this.options.birdSocket, 'configure');
      // 0003 Reconfigured, 0004 Reconfiguration in progress, 0018/0019 queued; 8xxx/9xxx errors.
      const ok = reply.code < 8000;
      return { ok, message: reply.lines.map((l) => l.replace(/^\d{4}[- ]/, '')).join('; ') };
    } catch (error) {
      return { ok: false, message: (error as Error).message };
    }
  }

  private async syncPods(): Promise<void> {
    if (!this.options.podsChanged) return;
    const pods = await this.options.client.list('pods');
    if (!pods.ok) return; // the next pod event or relist tries again
    try {
      await this.options.podsChanged(pods.value.items as Pod[]);
    } catch (error) {
      this.problem(`pods: ${(error as Error).message}`);
    }
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.abort.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  }

  private async loop(): Promise<void> {
    const { client } = this.options;
    let state: { revision: number; resources: ClusterResources } | undefined;
    let retry = RETRY_MS;
    let answered = false;
    const backOff = async () => {
      if (!answered) return this.wait(STARTUP_POLL_MS);
      await this.wait(retry);
      retry = Math.min(retry * 2, MAX_RETRY_MS);
    };
    while (!this.abort.signal.aborted) {
      if (!state) {
        state = await this.list();
        if (!state) {
          await backOff();
          continue;
        }
        if (this.lastProblem) this.log('the API server answers again');
        this.lastProblem = '';
        retry = RETRY_MS;
        answered = true;
        await this.syncPods();
      }
      try {
        await this.apply(state.resources);
      } catch (error) {
        this.problem(`cannot render: ${(error as Error).message}`);
      }
      const events = await client.watch(state.revision, WATCH_WAIT_MS, this.abort.signal);
      if (this.abort.signal.aborted) break;
      if (!events.ok) {
        // Gone (too old) or unreachable: list again (after a pause when the server is away).
        if (events.status.reason !== 'Gone') {
          this.problem(`watch failed: ${events.status.message}`);
          await backOff();
        }
        state = undefined;
        continue;
      }
      if (events.value.events.length > 0) this.eventBatches++;
      if (events.value.events.some((e) => e.kind === 'pods')) await this.syncPods();
      if (events.value.events.some((e) => RELEVANT.has(e.kind))) state = undefined;
      else state.revision = events.value.revision;
    }
  }
}
