// Step verification: a step's checks evaluated on the learner's lab as it is now, without running
// the step's blocks, to prove that every check fails before its step runs (DESIGN.md: "every check
// must fail before its step's blocks run and pass after").
//
// - A state check passes too early if it exits 0 at any attempt within VERIFY_WINDOW_MS (or its own
//   timeout if shorter), polled at its own interval, exactly as the step itself would poll it.
// - An expected-output check passes too early if its pattern matches the empty output: a pattern
//   that a command printing nothing satisfies proves nothing about what the command printed.
// - A step with neither a state check nor an expected output (exit codes only, or nothing) proves
//   nothing by output: each of its blocks is reported as `proves-nothing`, which does not make the
//   verification fail (an exit code is a real check, it just cannot be shown to fail beforehand).

import { pollStateCheck } from './checks.ts';
import type { IndexedBlock } from './manifest.ts';
import { matchOutput } from './matcher.ts';
import { VERIFY_WINDOW_MS, type Step, type VerifiedCheck, type VerifiedMessage } from './protocol.ts';
import type { Target } from './target.ts';

export async function verifyStep(
  target: Target,
  learner: string,
  step: Step,
  blocks: ReadonlyMap<string, IndexedBlock>,
  signal: AbortSignal = new AbortController().signal,
): Promise<VerifiedMessage> {
  const started = performance.now();
  const checks: VerifiedCheck[] = [];
  const indexed = step.blocks.map((block) => {
    const found = blocks.get(block.id);
    if (!found) throw new Error(`block ${block.id} of step ${step.id} is not in the course index`);
    return found;
  });

  for (const { block, pattern } of indexed) {
    if (!pattern) continue;
    const at = `${block.source.file}:${block.source.line}`;
    const match = matchOutput(pattern, '');
    checks.push(
      match.passed
        ? {
            check: 'output',
            block: block.id,
            verdict: 'passes-too-early',
            message: `the expected output of block ${block.id} (${at}) matches an empty output, so it proves nothing about what the block printed; expect at least one line the block must print`,
          }
        : { check: 'output', block: block.id, verdict: 'fails-before', message: `the expected output of block ${block.id} does not match an empty output` },
    );
  }

  const states = await Promise.all(
    step.checks.map((check, index) =>
      pollStateCheck(target, learner, { ...check, timeoutMs: Math.min(check.timeoutMs, VERIFY_WINDOW_MS) }, index, signal),
    ),
  );
  for (const [index, result] of states.entries()) {
    const check = step.checks[index]!;
    const at = `${check.source.file}:${check.source.line}`;
    checks.push(
      result.passed
        ? {
            check: index,
            verdict: 'passes-too-early',
            message: `state check ${index} (${at}: \`${check.command}\`) already exits 0 before the step's blocks ran, so its passing proves nothing about the step`,
          }
        : { check: index, verdict: 'fails-before', message: `state check ${index} fails before the step: ${result.message}` },
    );
  }

  if (step.checks.length === 0 && indexed.every((i) => !i.pattern)) {
    for (const { block } of indexed) {
      checks.push({
        check: 'exit-code',
        block: block.id,
        verdict: 'proves-nothing',
        message:
          block.exitCode === undefined
            ? `block ${block.id} has no expected output, no exit code and its step no state check: it passes whenever it finishes`
            : `block ${block.id} is checked by its exit code (${block.exitCode}) only and its step has no state check, so nothing can be shown to fail before it runs`,
      });
    }
  }

  return {
    type: 'verified',
    step: step.id,
    ok: checks.every((c) => c.verdict !== 'passes-too-early'),
    checks,
    durationMs: performance.now() - started,
  };
}
