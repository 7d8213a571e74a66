// The kubelet stand-in of one node: a heartbeat to the API server every second, sent from the
// node's loopback address (kubelet --node-ip), so it crosses the fabric exactly as the node's
// control traffic does. When the path breaks (no route back to the loopback), heartbeats stop
// arriving and the API server marks the node NotReady after its grace period (api-server.ts).

import type { ApiClient } from './client.ts';

/** How often a heartbeat is sent; well inside the API server's 10 s grace period. */
export const HEARTBEAT_INTERVAL_MS = 1_000;
/** A heartbeat not answered in this long counts as lost (a silent path drops packets). */
export const HEARTBEAT_TIMEOUT_MS = 2_000;

export interface KubeletOptions {
  node: string;
  client: ApiClient;
  /** The node's loopback address, the source of every heartbeat. */
  nodeIP: string;
  log?: (message: string) => void;
}

export class Kubelet {
  private readonly options: KubeletOptions;
  private readonly log: (message: string) => void;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  /** Whether the last heartbeat got through; undefined before the first. */
  connected: boolean | undefined;

  constructor(options: KubeletOptions) {
    this.options = options;
    this.log = options.log ?? ((message) => process.stdout.write(`${new Date().toISOString()} kubelet ${options.node}: ${message}\n`));
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  /** Sends one heartbeat; resolves with whether the API server got it. */
  async beat(): Promise<boolean> {
    const { client, node, nodeIP } = this.options;
    const result = await client.heartbeat(node, { localAddress: nodeIP, timeoutMs: HEARTBEAT_TIMEOUT_MS, signal: this.abort.signal });
    const ok = result.ok;
    if (ok !== this.connected) {
      this.log(ok ? `heartbeats reach the API server from ${nodeIP}` : `heartbeat from ${nodeIP} failed: ${result.ok ? '' : result.status.message}`);
    }
    this.connected = ok;
    return ok;
  }

  private async loop(): Promise<void> {
    while (!this.abort.signal.aborted) {
      const started = Date.now();
      await this.beat();
      const wait = Math.max(0, HEARTBEAT_INTERVAL_MS - (Date.now() - started));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.abort.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
    }
  }
}
