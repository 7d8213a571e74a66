// The process side of the lab's CLIs: standard streams, files, the API server's address, and, inside
// a lab, how to reach a pod's network namespace (kubectl exec) and the node's BIRD socket
// (calicoctl node status).

import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { CliIO, ExecTarget } from './cli-io.ts';
import { ApiClient, apiUrlFromEnv } from './client.ts';
import { birdSocketPath, currentSandbox, deviceCommand } from '../layout.ts';
import { servicePid } from '../services.ts';

/** The service name calico-node agents run under (lab/cluster/services.ts). */
export const CALICO_NODE_SERVICE = 'calico-node';

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => (text += chunk));
    process.stdin.on('end', () => resolve(text));
    process.stdin.on('error', reject);
  });
}

/** Runs argv in a pod's (or node's) network namespace of this sandbox, attached to our terminal. */
function execIn(sandbox: string, target: ExecTarget, argv: string[]): Promise<number> {
  const command = deviceCommand(sandbox, { netns: target.netns, hostname: target.hostname, device: target.netns }, argv);
  return new Promise((resolve) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit' });
    child.once('error', (error) => {
      process.stderr.write(`error: ${error.message}\n`);
      resolve(1);
    });
    child.once('close', (code, signal) => resolve(code ?? (signal === 'SIGINT' ? 130 : 1)));
  });
}

export function processIO(env: NodeJS.ProcessEnv = process.env): CliIO {
  const sandbox = currentSandbox();
  const device = env.LAB_DEVICE;
  // In a lab shell the learner is the `vagrant` user; root only through sudo (which sets SUDO_USER).
  const privileged = () => (device ? !!env.SUDO_USER : process.getuid?.() === 0);
  const calicoRunning = device !== undefined && servicePid(device, CALICO_NODE_SERVICE) !== undefined;
  return {
    client: new ApiClient(apiUrlFromEnv(env)),
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readStdin,
    readFile: (path) => readFile(path, 'utf8'),
    env,
    now: Date.now,
    exec: sandbox === undefined ? undefined : (target, argv) => execIn(sandbox, target, argv),
    privileged,
    birdSocket: env.CALICO_BIRD_SOCKET ?? (calicoRunning ? birdSocketPath(device!) : undefined),
  };
}

/** Runs a CLI to completion and exits with its code once its output is flushed. */
export async function main(run: (io: CliIO, argv: string[]) => Promise<number>): Promise<void> {
  const code = await run(processIO(), process.argv.slice(2));
  process.exitCode = code;
}
