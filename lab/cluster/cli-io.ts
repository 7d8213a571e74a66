// What a CLI of the lab (kubectl, calicoctl) needs from its surroundings, injectable so that tests
// run the real command code in-process against a test API server.

import type { ApiClient } from './client.ts';
import type { Status } from './api.ts';

export interface CliIO {
  client: ApiClient;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Reads all of standard input (for `-f -`). */
  readStdin: () => Promise<string>;
  readFile: (path: string) => Promise<string>;
  env: NodeJS.ProcessEnv;
  /** Milliseconds since the epoch (ages). */
  now: () => number;
  /**
   * Runs a command in a pod's or node's network namespace, with the terminal's stdio; resolves
   * with its exit code. Undefined outside a lab.
   */
  exec?: (target: ExecTarget, argv: string[]) => Promise<number>;
  /** Whether the caller has root (calicoctl node status needs it). */
  privileged: () => boolean;
  /** BIRD's control socket for `calicoctl node status`; undefined when the node has none. */
  birdSocket?: string;
}

export interface ExecTarget {
  /** Network namespace of the pod, or of its node for a host-network pod. */
  netns: string;
  /** Name for the shell's hostname (the pod name). */
  hostname: string;
  node: string;
  hostNetwork: boolean;
}

/** kubectl's words for a request the API server could not be asked. */
export function kubectlUnreachable(status: Status, server: URL): string {
  if (/connection refused/.test(status.message)) {
    return `The connection to the server ${server.host} was refused - did you specify the right host or port?\n`;
  }
  return `Unable to connect to the server: dial tcp ${server.host}: i/o timeout\n`;
}
