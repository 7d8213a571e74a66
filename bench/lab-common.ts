// Shared by the lab benchmarks: running the `lab` CLI, timing, PSS of a sandbox, tables.
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
export const LAB_BIN = `${REPO}/lab/bin/lab`;

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * `--reference DIR`: the lab of another checkout (the commit before a change, say), measured beside
 * this one's, run by run, so that a ratio compares like with like on a machine whose load moves.
 * Its sandboxes are named `REFERENCE_PREFIX…`, and every call for one of them uses its CLI.
 */
export const REFERENCE_PREFIX = 'bench-ref-';
let referenceBin: string | undefined;

/** Takes `--reference DIR` out of argv (checking DIR has a lab); returns the rest. */
export function takeReference(argv: string[]): { reference: string | undefined; rest: string[] } {
  const at = argv.indexOf('--reference');
  if (at < 0) return { reference: undefined, rest: argv };
  const dir = argv[at + 1];
  const bin = dir ? `${dir.replace(/\/$/, '')}/lab/bin/lab` : '';
  if (!dir || !existsSync(bin)) throw new Error(`--reference needs a checkout with lab/bin/lab, got ${JSON.stringify(dir ?? '')}`);
  referenceBin = bin;
  return { reference: dir, rest: [...argv.slice(0, at), ...argv.slice(at + 2)] };
}

export function lab(sandbox: string, args: string[], timeoutMs = 120_000): Promise<Result> {
  const t0 = performance.now();
  const bin = sandbox.startsWith(REFERENCE_PREFIX) && referenceBin ? referenceBin : LAB_BIN;
  return new Promise((resolve) => {
    execFile(bin, ['--sandbox', sandbox, ...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr, ms: performance.now() - t0 });
    });
  });
}

export async function labOk(sandbox: string, args: string[], timeoutMs?: number): Promise<Result> {
  const result = await lab(sandbox, args, timeoutMs);
  if (result.code !== 0) throw new Error(`lab --sandbox ${sandbox} ${args.join(' ')} exited ${result.code}:\n${result.stdout}${result.stderr}`);
  return result;
}

/** Runs a command and streams nothing; resolves with its output when it exits. */
export function spawnCollect(argv: string[]): { done: Promise<Result>; kill: () => void } {
  const t0 = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const done = new Promise<Result>((resolve) => child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr, ms: performance.now() - t0 })));
  return { done, kill: () => child.kill('SIGINT') };
}

export function stateRoot(): string {
  return process.env.LAB_STATE_DIR ?? `${process.env.XDG_RUNTIME_DIR || `/run/user/${process.getuid?.() ?? 0}`}/dual-tor-lab`;
}

export function keeperOf(sandbox: string): { pid: number; unsharePid: number } {
  return JSON.parse(readFileSync(`${stateRoot()}/${sandbox}/keeper.json`, 'utf8')) as { pid: number; unsharePid: number };
}

/** Every host pid of a sandbox: the processes of its PID namespace and the process holding it (bwrap; unshare before). */
export function sandboxPids(sandbox: string): number[] {
  const keeper = keeperOf(sandbox);
  const pidNs = readlinkSync(`/proc/${keeper.pid}/ns/pid`);
  const pids = [keeper.unsharePid];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/pid`) === pidNs) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

/** PSS in kB from /proc/PID/smaps_rollup, 0 for a process that exited meanwhile. */
export function pssKb(pid: number): number {
  try {
    const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return match ? Number(match[1]) : 0;
  } catch {
    return 0; // exited
  }
}

export function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

export function memAvailableKb(): number {
  return Number(/^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]);
}

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  let os = 'Linux';
  try {
    os = /^PRETTY_NAME="([^"]+)"/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os;
  } catch {
    // no os-release: say Linux
  }
  return `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os}, kernel ${kernel}`;
}

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(cells[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const seconds = (ms: number) => (ms / 1000).toFixed(2);

/** Sandboxes torn down at once: enough to be quick, few enough not to swamp a small machine. */
const TEARDOWN_BATCH = 4;

/** Tears sandboxes down, a few at a time, whatever happened before; reports failures. */
export async function teardownAll(names: string[]): Promise<void> {
  const pending = [...names];
  while (pending.length > 0) {
    const batch = pending.splice(0, TEARDOWN_BATCH);
    const results = await Promise.all(batch.map((name) => lab(name, ['down'], 120_000)));
    results.forEach((r, i) => {
      if (r.code !== 0) process.stderr.write(`lab down ${batch[i]} failed (exit ${r.code}): ${r.stderr}${r.stdout}\n`);
    });
  }
}

/** Tears the given sandboxes down on Ctrl-C too. */
export function teardownOnSignal(names: () => string[]): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      // The benchmark's own `finally` may be removing them already; a second pass finds them gone.
      process.stderr.write(`\n${signal}: removing ${names().length} sandboxes\n`);
      void teardownAll(names()).then(() => process.exit(130));
    });
  }
}
