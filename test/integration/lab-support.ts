// Helpers for the lab integration tests: run the `lab` CLI against a named sandbox, poll with a
// deadline, and tear a sandbox down for certain.
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LAB_WAIT_MS } from '../support/deadlines.ts';

export const REPO = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
export const LAB_BIN = `${REPO}/lab/bin/lab`;

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

let counter = 0;
/** A sandbox name no other test (or test process) uses. */
export function uniqueSandbox(label: string): string {
  counter += 1;
  return `t-${label}-${process.pid}-${counter}`.slice(0, 40);
}

export function lab(sandbox: string, args: string[], timeoutMs = LAB_WAIT_MS): Promise<Result> {
  return new Promise((resolve) => {
    execFile(LAB_BIN, ['--sandbox', sandbox, ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs `lab …` and fails with its output when it exits non-zero. */
export async function labOk(sandbox: string, args: string[], timeoutMs?: number): Promise<string> {
  const result = await lab(sandbox, args, timeoutMs);
  if (result.code !== 0) throw new Error(`lab ${args.join(' ')} exited ${result.code}\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

export function labExec(sandbox: string, device: string, argv: string[]): Promise<Result> {
  return lab(sandbox, ['exec', device, '--', ...argv]);
}

/** Calls `probe` until it returns a value (not undefined), or fails after `timeoutMs` with `what` and the last detail. */
export async function poll<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export interface Status {
  devices: { name: string; state: string; daemons: { name: string; running: boolean }[] }[];
  links: { id: string; a: string; b: string }[];
  sessions: { device: string; peer: string; state: string; kind: 'fabric' | 'node' }[];
}

export async function status(sandbox: string): Promise<Status> {
  return JSON.parse(await labOk(sandbox, ['status', '--json'])) as Status;
}

/** Polls until every leaf–spine session (both ends) is Established. */
export function fabricEstablished(sandbox: string, expected: number, timeoutMs = LAB_WAIT_MS): Promise<Status> {
  return poll(`${expected} leaf-spine BGP sessions Established in ${sandbox}`, timeoutMs, async () => {
    const s = await status(sandbox);
    const fabric = s.sessions.filter((x) => x.kind === 'fabric');
    return fabric.length === expected && fabric.every((x) => x.state === 'Established') ? s : undefined;
  });
}

/** Polls until one ping from a pod to an address gets an answer. */
export function podReaches(sandbox: string, pod: string, address: string, timeoutMs = LAB_WAIT_MS): Promise<Result> {
  return poll(`${pod} to reach ${address}`, timeoutMs, async () => {
    const result = await labExec(sandbox, pod, ['ping', '-c', '1', '-W', '1', address]);
    return result.code === 0 ? result : undefined;
  });
}

interface Keeper {
  pid: number;
  unsharePid: number;
}

export function stateRoot(): string {
  return process.env.LAB_STATE_DIR ?? `${process.env.XDG_RUNTIME_DIR || `/run/user/${process.getuid?.() ?? 0}`}/dual-tor-lab`;
}

export function keeperOf(sandbox: string): Keeper | undefined {
  try {
    return JSON.parse(readFileSync(`${stateRoot()}/${sandbox}/keeper.json`, 'utf8')) as Keeper;
  } catch {
    return undefined; // not running
  }
}

/** Tears a sandbox down: `lab down`, and if that fails, SIGKILL of its keeper. */
export async function teardown(sandbox: string): Promise<void> {
  const keeper = keeperOf(sandbox);
  const result = await lab(sandbox, ['down'], LAB_WAIT_MS);
  if (result.code !== 0 && keeper) {
    try {
      process.kill(keeper.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    throw new Error(`lab down failed for ${sandbox} (keeper killed instead): ${result.stderr}`);
  }
}

/** Host pids whose PID namespace is `pidNs` (an inode link such as "pid:[4026532]"). */
export function processesInPidNamespace(pidNs: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    // ns/pid first: it still reads for a zombie (an exited process its parent has not reaped yet),
    // whose ns/pid_for_children is gone; a zombie of the namespace is not gone until it is reaped.
    for (const link of ['pid', 'pid_for_children']) {
      try {
        if (readlinkSync(`/proc/${entry}/ns/${link}`) === pidNs) {
          pids.push(Number(entry));
          break;
        }
      } catch {
        // exited while we looked, or (pid_for_children) a zombie: decided by the other link
      }
    }
  }
  return pids;
}
