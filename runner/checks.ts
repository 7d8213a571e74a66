// Checks that decide whether a block and a step passed: a block's exit code and expected output,
// and a step's state checks, each a hidden command polled until it passes or its time is up.

import { matchOutput } from './matcher.ts';
import type { FinishedCommand } from './command-tracker.ts';
import type { IndexedBlock } from './manifest.ts';
import type { CheckResult, StateCheck } from './protocol.ts';
import type { Target } from './target.ts';

/**
 * Every attempt may run at least this long (or the check's whole timeout if shorter), even past the
 * deadline, so that the last attempt is not killed by the clock a moment after it started.
 */
const MIN_ATTEMPT_MS = 1000;
/** The tail of a failing state check's output shown to the learner. */
const CHECK_OUTPUT_TAIL_CHARS = 2000;

export function blockResults(indexed: IndexedBlock, finished: FinishedCommand): CheckResult[] {
  const results: CheckResult[] = [];
  const { block, pattern } = indexed;
  if (finished.exitCode === null) {
    // Its end was seen (a prompt came back) but not its exit status: it cannot be called a pass.
    results.push({ check: 'exit-code', passed: false, message: 'ended without reporting its exit status (interrupted before the shell could say)' });
  } else if (block.exitCode !== undefined) {
    const passed = finished.exitCode === block.exitCode;
    results.push({
      check: 'exit-code',
      passed,
      message: passed ? `exited with ${finished.exitCode}` : `exited with ${finished.exitCode}, expected ${block.exitCode}`,
    });
  }
  if (pattern) {
    const match = matchOutput(pattern, finished.output);
    const note = finished.truncated ? ' (only the first MiB of the output was kept)' : '';
    results.push(
      match.passed
        ? { check: 'output', passed: true, message: `output matched${note}` }
        : { check: 'output', passed: false, message: `${match.message}${note}`, diff: match.diff },
    );
  }
  return results;
}

/**
 * Runs a state check's command now and then every `intervalMs` until it exits 0 or `timeoutMs`
 * has passed since the start; each attempt may use the time that is left (MIN_ATTEMPT_MS at least). Resolves early, failed,
 * when `signal` aborts.
 */
export async function pollStateCheck(
  target: Target,
  learner: string,
  check: StateCheck,
  index: number,
  signal: AbortSignal,
  now: () => number = () => performance.now(),
): Promise<CheckResult> {
  const deadline = now() + check.timeoutMs;
  let attempts = 0;
  let last = { exitCode: null as number | null, output: '', timedOut: false };
  while (!signal.aborted) {
    attempts++;
    const left = Math.max(deadline - now(), Math.min(check.timeoutMs, MIN_ATTEMPT_MS));
    last = await target.exec(learner, check.terminal, check.command, left);
    if (last.exitCode === 0) {
      return { check: index, passed: true, message: check.description || `\`${check.command}\` passed` };
    }
    const wait = Math.min(check.intervalMs, deadline - now());
    if (wait <= 0) break;
    await abortableDelay(wait, signal);
  }
  const how = last.timedOut ? 'did not finish in time' : `exited with ${last.exitCode ?? 'no code'}`;
  const tail = last.output.slice(-CHECK_OUTPUT_TAIL_CHARS).trim();
  return {
    check: index,
    passed: false,
    message:
      `${check.description || 'state check failed'}: \`${check.command}\` ${how}` +
      (signal.aborted ? ' (check stopped)' : ` after ${attempts} attempt${attempts === 1 ? '' : 's'} over ${check.timeoutMs} ms`) +
      (tail ? `\n${tail}` : ''),
  };
}

function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
