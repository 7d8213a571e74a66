// `npm run bench:under-load -- [--hogs N] [--] COMMAND [ARG...]`
//
// Runs COMMAND with N CPU hogs beside it (default 2: a 2-core machine fully taken before the
// command starts), as a workshop machine with a room on it is, and prints how it went: exit code,
// wall time, and the machine's load average sampled while it ran. The command's own output passes
// through unchanged, so a failing test says why. The hogs are busy loops of this machine's `sh`
// at the same priority as everything else; they end with the command, on failure and on Ctrl-C too.
//
// Used to prove that the test suite passes on a busy 2-core machine (bench/README.md).

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** How often the load average is read while the command runs. */
const LOAD_SAMPLE_MS = 5_000;
const DEFAULT_HOGS = 2;
const USAGE = 'usage: npm run bench:under-load -- [--hogs N] [--] COMMAND [ARG...]';

function parse(argv: string[]): { hogs: number; command: string[] } {
  let hogs = DEFAULT_HOGS;
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    if (arg === '--hogs') {
      const value = argv[++i];
      hogs = Number(value);
      if (!Number.isInteger(hogs) || hogs < 0 || hogs > 64) throw new Error(`--hogs needs a whole number from 0 to 64, got ${JSON.stringify(value)}`);
      continue;
    }
    if (arg.startsWith('-')) throw new Error(`unknown option ${JSON.stringify(arg)}`);
    break;
  }
  const command = argv.slice(i);
  if (command.length === 0) throw new Error('no command given');
  return { hogs, command };
}

function loadAverage(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

function startHog(): ChildProcess {
  // A shell loop of builtins: no forks, so it adds exactly one runnable process.
  return spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
}

async function main(): Promise<void> {
  let options: { hogs: number; command: string[] };
  try {
    options = parse(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench:under-load: ${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  const hogs = Array.from({ length: options.hogs }, startHog);
  const stopHogs = () => {
    for (const hog of hogs) hog.kill('SIGKILL');
  };
  process.on('exit', stopHogs);
  const loadBefore = loadAverage();
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(loadAverage()), LOAD_SAMPLE_MS);
  const started = performance.now();
  const child = spawn(options.command[0]!, options.command.slice(1), { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  const code = await new Promise<number>((resolve) => {
    child.once('error', (error) => {
      process.stderr.write(`bench:under-load: could not start ${options.command[0]}: ${error.message}\n`);
      resolve(127);
    });
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 128 : 1)));
  });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  stopHogs();
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted.length ? sorted[Math.floor(sorted.length / 2)]! : loadBefore;
  const rows = [
    ['command', options.command.join(' ')],
    ['CPU hogs beside it', String(options.hogs)],
    ['machine', `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}`],
    ['exit code', String(code)],
    ['wall time', `${seconds.toFixed(1)} s`],
    ['load (1 min) at start', loadBefore.toFixed(2)],
    ['load while running: min / median / max', sorted.length ? `${sorted[0]!.toFixed(2)} / ${median.toFixed(2)} / ${sorted.at(-1)!.toFixed(2)}` : 'too short to sample'],
  ];
  process.stdout.write(`\n| under load | |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n`);
  process.exit(code);
}

await main();
