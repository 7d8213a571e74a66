// Catch-up: brings a learner's lab to the state a lesson (or a step of it) needs by running every
// block of every earlier step, in order (earlier lessons by `order`, then earlier steps of this
// lesson), through the learner's ordinary block queue, so each is typed into its terminal for the
// learner to see and marked as it passes. Each block waits for the previous one to finish, across
// terminals; the first block or step that does not pass stops the catch-up, saying which and why.
//
// One exception to "waits for the previous one": a block whose terminal's next block (in run order)
// interrupts it (`interrupt`) is a long-running command meant to be stopped by that block (a probe
// left running while a switch fails), so it is waited for only until it has started. Its step is
// decided once that block has ended too.

import type { Course, IndexedBlock } from './manifest.ts';
import type { BlockStatus, CatchUpStatusMessage, CheckResult, CourseManifest, ErrorCode, Step, StepStatus } from './protocol.ts';

/** A block gets this long to finish during a catch-up (`lab up --wait` and friends take seconds). */
export const CATCH_UP_BLOCK_TIMEOUT_MS = 180_000;
/** A step's state checks get their own timeout plus this, for the last attempt and the frames. */
const CHECK_MARGIN_MS = 5_000;

export type StatusEvent = { kind: 'block'; status: BlockStatus } | { kind: 'step'; status: StepStatus };

/** What a catch-up needs from the learner. */
export type CatchUpHost = {
  runBlock(indexed: IndexedBlock, interrupt: boolean): Promise<{ ok: true } | { ok: false; code: ErrorCode; message: string }>;
  /** Every block and step status the learner sets, as it sets it; returns the unsubscribe. */
  onStatus(listener: (event: StatusEvent) => void): () => void;
  /** Ends any failure injected in the lab (a catch-up stopped between a `lab fail` and its restore); says what it ended. */
  endFailures?(): Promise<string | undefined>;
};

export type CatchUpPlan = { lesson: string; step?: string; steps: Step[] };

/**
 * The steps of the lessons before `lesson` that its start needs, in course order: all but those
 * whose effect does not outlast their own lesson (`lasting: false`: they only look, or a later
 * step of their lesson undoes what they did, as a failure and its restore).
 */
export function lessonStartSteps(manifest: CourseManifest, lesson: string): Step[] {
  // Stable sort: lessons with the same order keep the manifest's order.
  const ordered = [...manifest.lessons].sort((a, b) => a.order - b.order);
  const steps: Step[] = [];
  for (const earlier of ordered) {
    if (earlier.id === lesson) break;
    steps.push(...earlier.steps.filter((candidate) => candidate.lasting !== false));
  }
  return steps;
}

/**
 * The steps to run before `lesson` (lessonStartSteps), and before `step` of it every earlier step
 * of that lesson (a step may need what an earlier one of its lesson did for a while).
 */
export function catchUpPlan(course: Course, lesson: string, step?: string): { ok: true; plan: CatchUpPlan } | { ok: false; message: string } {
  const target = course.lessons.get(lesson);
  if (!target) return { ok: false, message: `Unknown lesson "${lesson}"; this course has: ${[...course.lessons.keys()].join(', ')}` };
  const steps = lessonStartSteps(course.manifest, lesson);
  if (step !== undefined) {
    const index = target.steps.findIndex((s) => s.id === step);
    if (index < 0) {
      return { ok: false, message: `Unknown step "${step}" in lesson "${lesson}"; its steps: ${target.steps.map((s) => s.id).join(', ') || '(none)'}` };
    }
    steps.push(...target.steps.slice(0, index));
  }
  return { ok: true, plan: step === undefined ? { lesson, steps } : { lesson, step, steps } };
}

/** Blocks left running, by id: those whose terminal's next block in `plan` interrupts them. */
export function leftRunning(plan: CatchUpPlan): Set<string> {
  const blocks = plan.steps.flatMap((s) => s.blocks);
  const result = new Set<string>();
  for (const [i, block] of blocks.entries()) {
    const next = blocks.slice(i + 1).find((b) => b.terminal === block.terminal);
    if (next?.interrupt) result.add(block.id);
  }
  return result;
}

type Failure = { block?: string; message: string; results: CheckResult[] };

/**
 * Runs the plan; `send` gets every progress frame, the last one `passed` or `failed` (also
 * returned). Never throws for a failing block: that is the failed frame.
 */
export async function runCatchUp(
  host: CatchUpHost,
  course: Course,
  plan: CatchUpPlan,
  send: (message: CatchUpStatusMessage) => void,
  options: { blockTimeoutMs?: number; signal?: AbortSignal } = {},
): Promise<CatchUpStatusMessage> {
  const blockTimeoutMs = options.blockTimeoutMs ?? CATCH_UP_BLOCK_TIMEOUT_MS;
  const total = plan.steps.reduce((n, s) => n + s.blocks.length, 0);
  const base = { type: 'catch-up' as const, lesson: plan.lesson, ...(plan.step ? { step: plan.step } : {}), total };
  // Every status set during the catch-up, in order; waits scan it from an index, so an event that
  // happened between two awaits is never missed, and a state left from before is never taken.
  const events: StatusEvent[] = [];
  const wakers = new Set<() => void>();
  const unsubscribe = host.onStatus((event) => {
    events.push(event);
    for (const wake of wakers) wake();
  });
  const abort = () => {
    for (const wake of wakers) wake();
  };
  options.signal?.addEventListener('abort', abort);

  /** Resolves with the first event from `from` on that `test` accepts, or null after `timeoutMs`. */
  const waitEvent = (from: number, test: (e: StatusEvent) => boolean, timeoutMs: number): Promise<{ event: StatusEvent; index: number } | null> =>
    new Promise((resolve) => {
      let scanned = from;
      const timer = setTimeout(() => finish(null), timeoutMs);
      function finish(value: { event: StatusEvent; index: number } | null) {
        clearTimeout(timer);
        wakers.delete(check);
        resolve(value);
      }
      function check() {
        if (options.signal?.aborted) return finish(null);
        for (; scanned < events.length; scanned++) if (test(events[scanned]!)) return finish({ event: events[scanned]!, index: scanned });
      }
      wakers.add(check);
      check();
    });

  const settledBlock = (id: string) => (e: StatusEvent) => e.kind === 'block' && e.status.block === id && (e.status.state === 'passed' || e.status.state === 'failed');
  const settledStep = (id: string) => (e: StatusEvent) => e.kind === 'step' && e.status.step === id && (e.status.state === 'passed' || e.status.state === 'failed');

  const running = leftRunning(plan);
  let done = 0;
  /** Steps with a block left running: decided once that block ended. `from`: index before their blocks ran. */
  const deferred: { step: Step; from: number }[] = [];

  const stepTimeout = (step: Step) => Math.max(0, ...step.checks.map((c) => c.timeoutMs)) + CHECK_MARGIN_MS;

  const awaitStep = async (step: Step, from: number): Promise<Failure | null> => {
    const settled = await waitEvent(from, settledStep(step.id), stepTimeout(step) + (step.checks.length ? 0 : blockTimeoutMs));
    if (!settled) return { message: `step ${step.id} was not decided within ${Math.round(stepTimeout(step) / 1000)} s after its blocks ran`, results: [] };
    const status = (settled.event as Extract<StatusEvent, { kind: 'step' }>).status;
    if (status.state === 'passed') return null;
    return { message: `step ${step.id} ("${step.title}") did not pass`, results: status.results };
  };

  const run = async (): Promise<Failure | null> => {
    for (const [stepIndex, step] of plan.steps.entries()) {
      // A step without blocks is never run by the runner (its checks follow its blocks): nothing to do.
      if (step.blocks.length === 0) continue;
      const from = events.length;
      for (const block of step.blocks) {
        if (options.signal?.aborted) return { block: block.id, message: 'the catch-up was stopped', results: [] };
        const indexed = course.blocks.get(block.id);
        if (!indexed) throw new Error(`block ${block.id} is not in the course index`);
        send({ ...base, state: 'running', done, block: block.id, message: `step ${stepIndex + 1} of ${plan.steps.length}, "${step.title}"`, results: [] });
        const mark = events.length;
        const submitted = await host.runBlock(indexed, block.interrupt);
        if (!submitted.ok) return { block: block.id, message: `block ${block.id} could not run: ${submitted.message}`, results: [] };
        if (running.has(block.id)) {
          // Left running for a later block to interrupt: wait only until it has started.
          const started = await waitEvent(
            mark,
            (e) => e.kind === 'block' && e.status.block === block.id && e.status.state !== 'queued',
            blockTimeoutMs,
          );
          if (!started) return { block: block.id, message: `block ${block.id} did not start within ${blockTimeoutMs / 1000} s`, results: [] };
          const status = (started.event as Extract<StatusEvent, { kind: 'block' }>).status;
          if (status.state === 'failed') return { block: block.id, message: `block ${block.id} failed`, results: status.results };
        } else {
          const settled = await waitEvent(mark, settledBlock(block.id), blockTimeoutMs);
          if (!settled) return { block: block.id, message: `block ${block.id} did not finish within ${blockTimeoutMs / 1000} s`, results: [] };
          const status = (settled.event as Extract<StatusEvent, { kind: 'block' }>).status;
          if (status.state === 'failed') {
            const at = `${indexed.block.source.file}:${indexed.block.source.line}`;
            return { block: block.id, message: `step "${step.title}": block ${block.id} (${at}) failed`, results: status.results };
          }
        }
        done++;
      }
      if (step.blocks.some((b) => running.has(b.id))) deferred.push({ step, from });
      else {
        const failure = await awaitStep(step, from);
        if (failure) return failure;
      }
      // Steps whose long-running block has ended since are decided now, in order.
      while (deferred.length > 0) {
        const first = deferred[0]!;
        const ended = first.step.blocks.every((b) => !running.has(b.id) || events.slice(first.from).some(settledBlock(b.id)));
        if (!ended) break;
        deferred.shift();
        const failure = await awaitStep(first.step, first.from);
        if (failure) return failure;
      }
    }
    for (const { step, from } of deferred) {
      const failure = await awaitStep(step, from);
      if (failure) return failure;
    }
    return null;
  };

  let final: CatchUpStatusMessage;
  try {
    const failure = await run();
    // A catch-up that stops never leaves the lab with a failure injected.
    const ended = failure ? await host.endFailures?.() : undefined;
    final = failure
      ? {
          ...base,
          state: 'failed',
          done,
          ...(failure.block ? { block: failure.block } : {}),
          message: `Catch-up stopped: ${failure.message}.${ended ? ` ${ended}` : ''}`,
          results: failure.results,
        }
      : {
          ...base,
          state: 'passed',
          done,
          message:
            plan.steps.length === 0
              ? 'Nothing to catch up: no step comes before this one.'
              : `Caught up: ran ${done} block${done === 1 ? '' : 's'} of ${plan.steps.length} earlier step${plan.steps.length === 1 ? '' : 's'}.`,
          results: [],
        };
  } finally {
    unsubscribe();
    options.signal?.removeEventListener('abort', abort);
  }
  send(final);
  return final;
}
