// Labs of the workshop's learners that the runner does not hold: after a crash and restart, the
// labs of learners who never came back are still up (they outlive a crashed runner on purpose, so
// that those who do come back find theirs), but the new runner never started them, so neither idle
// reaping nor its shutdown takes them down. The workshop does, when it stops, and when the
// instructor resets such a learner's lab.

import { spawn } from 'node:child_process';
import { LAB_CLI } from '../targets/lab.ts';

/** `lab down` gets this long per sandbox (it stops daemons gracefully first, then ends the sandbox). */
const DOWN_TIMEOUT_MS = 60_000;
/** Sandboxes taken down at once: quick enough, without swamping a small machine. */
const BATCH = 4;

function run(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(LAB_CLI, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, output: `cannot run ${LAB_CLI}: ${error.message}` });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Takes down every listed sandbox among `names`; returns the failures, one line each. */
export async function downLeftoverLabs(names: string[], log: (line: string) => void): Promise<string[]> {
  const listed = await run(['list'], DOWN_TIMEOUT_MS);
  if (listed.code !== 0) return [`lab list failed (exit ${listed.code ?? 'none'}): ${listed.output.trim()}`];
  const running = new Set(listed.output.split('\n').map((l) => l.trim()).filter(Boolean));
  const pending = names.filter((name) => running.has(name));
  if (pending.length) log(`workshop: taking down ${pending.length} lab(s) the runner does not hold (left from before a restart)`);
  const failures: string[] = [];
  while (pending.length) {
    const batch = pending.splice(0, BATCH);
    const results = await Promise.all(batch.map((name) => run(['--sandbox', name, 'down'], DOWN_TIMEOUT_MS)));
    results.forEach((r, i) => {
      if (r.code !== 0) failures.push(`lab down ${batch[i]} failed (exit ${r.code ?? 'none'}): ${r.output.trim().slice(-500)}`);
    });
  }
  return failures;
}
