// The headless walk of a course, as a new learner, through the runner's protocol: for each step,
// verify that its checks fail before it runs (`verify-step`), run its blocks in order (`run`, each
// waiting for the previous one), and require the step to pass within its budget. `--from` and a
// lesson list that skips lessons use catch-up to bring a fresh learner's lab to where the walk starts.

import { leftRunning } from '../../runner/catch-up.ts';
import type { BlockStatus, CourseManifest, LessonManifest, ServerMessage, Step, StepStatus, VerifiedMessage } from '../../runner/protocol.ts';
import { CourseClient, newLearner } from './client.ts';

/** A block gets this long to finish (the first one of a lab lesson also waits for `lab up`). */
export const BLOCK_BUDGET_MS = 60_000;
/** After its blocks, a step gets its longest state check's timeout plus this to be decided. */
const STEP_MARGIN_MS = 5_000;
/** Terminals of a lesson are opened (on the lab target: the sandbox brought up) within this. */
const OPEN_TIMEOUT_MS = 180_000;
/** Verification polls each state check for a second; its frame comes well within this. */
const VERIFY_TIMEOUT_MS = 60_000;
/** A catch-up runs every earlier block; it gets this long in all. */
const CATCH_UP_TIMEOUT_MS = 15 * 60_000;
/** Lines of a terminal shown with a failure. */
const TERMINAL_TAIL_LINES = 40;

export type StepReport = {
  lesson: string;
  step: string;
  title: string;
  ok: boolean;
  ms: number;
  /** Why the step is broken or failed, one line each (the first names the block or check). */
  problems: string[];
  /** Checks that prove nothing by output (not failures). */
  warnings: string[];
  block?: string;
  diff?: string;
  terminal?: { name: string; text: string };
  verify?: VerifiedMessage;
};

export type LessonReport = {
  lesson: string;
  title: string;
  ms: number;
  steps: StepReport[];
  /** A catch-up that brought a fresh learner here, if one was needed. */
  catchUp?: { ok: boolean; message: string; ms: number; diff?: string };
};

export type WalkOptions = {
  url: string;
  manifest: CourseManifest;
  /** Lesson ids to walk (course order is kept); all by default. */
  lessons?: string[];
  /** `LESSON/STEP`: start there (catching up to it) instead of at the first lesson's start. */
  from?: string;
  log: (line: string) => void;
  /** Each finished step, as it finishes (for a live report). */
  onStep?: (report: StepReport) => void;
};

export function orderedLessons(manifest: CourseManifest): LessonManifest[] {
  return [...manifest.lessons].sort((a, b) => a.order - b.order);
}

/** Lessons to walk, in segments of consecutive lessons; each segment is one fresh learner. */
export function planWalk(manifest: CourseManifest, lessons: string[] = [], from?: string): { lesson: LessonManifest; fromStep?: string; fresh: boolean }[] {
  const ordered = orderedLessons(manifest);
  const known = ordered.map((l) => l.id);
  for (const id of lessons) {
    if (!known.includes(id)) throw new Error(`Unknown lesson "${id}"; this course has: ${known.join(', ')}`);
  }
  let selected = lessons.length ? ordered.filter((l) => lessons.includes(l.id)) : ordered;
  let fromStep: string | undefined;
  if (from !== undefined) {
    const [lessonId] = from.split('/');
    const lesson = ordered.find((l) => l.id === lessonId);
    if (!lesson) throw new Error(`--from ${from}: unknown lesson "${lessonId}"; this course has: ${known.join(', ')}`);
    if (from.includes('/')) {
      if (!lesson.steps.some((s) => s.id === from)) {
        throw new Error(`--from ${from}: lesson "${lesson.id}" has no such step; its steps: ${lesson.steps.map((s) => s.id).join(', ') || '(none)'}`);
      }
      fromStep = from;
    }
    const start = ordered.indexOf(lesson);
    selected = selected.filter((l) => ordered.indexOf(l) >= start);
    if (!selected.includes(lesson)) selected.unshift(lesson);
  }
  return selected.map((lesson, i) => {
    const index = ordered.indexOf(lesson);
    const previous = i === 0 ? -1 : ordered.indexOf(selected[i - 1]!);
    // A fresh learner (and catch-up) wherever the walk does not simply continue from the lesson before.
    const fresh = i === 0 || previous !== index - 1;
    return { lesson, fresh, ...(i === 0 && fromStep ? { fromStep } : {}) };
  });
}

type BlockMessage = Extract<ServerMessage, { type: 'block' }>;
type StepMessage = Extract<ServerMessage, { type: 'step' }>;

function tail(text: string, lines = TERMINAL_TAIL_LINES): string {
  return text.replace(/\s+$/, '').split('\n').slice(-lines).join('\n');
}

function failedResults(results: StepStatus['results'] | BlockStatus['results']): { message: string; diff?: string } {
  const failing = results.filter((r) => !r.passed);
  const diff = failing.find((r) => r.diff)?.diff;
  return { message: failing.map((r) => r.message).join('; ') || 'a check did not pass', ...(diff ? { diff } : {}) };
}

export async function walkCourse(options: WalkOptions): Promise<LessonReport[]> {
  const plan = planWalk(options.manifest, options.lessons, options.from);
  const reports: LessonReport[] = [];
  let learner: Awaited<ReturnType<typeof newLearner>> | null = null;
  for (const { lesson, fromStep, fresh } of plan) {
    const started = performance.now();
    const report: LessonReport = { lesson: lesson.id, title: lesson.title, ms: 0, steps: [] };
    reports.push(report);
    if (fresh || !learner) learner = await newLearner(options.url);
    const client = await CourseClient.open(options.url, learner, lesson.id);
    try {
      const isFirst = orderedLessons(options.manifest)[0]?.id === lesson.id;
      if (fresh && (!isFirst || fromStep)) {
        const caught = await catchUp(client, fromStep);
        report.catchUp = caught;
        options.log(`${caught.ok ? '✓' : '✗'} catch-up to ${fromStep ?? lesson.id} (${(caught.ms / 1000).toFixed(1)} s): ${caught.message}`);
        if (!caught.ok) {
          report.ms = performance.now() - started;
          continue;
        }
      }
      await openTerminals(client, lesson);
      const steps = fromStep ? lesson.steps.slice(lesson.steps.findIndex((s) => s.id === fromStep)) : lesson.steps;
      await walkSteps(client, lesson, steps, report, options.onStep);
    } finally {
      await client.close();
    }
    report.ms = performance.now() - started;
  }
  return reports;
}

async function catchUp(client: CourseClient, step: string | undefined): Promise<NonNullable<LessonReport['catchUp']>> {
  const started = performance.now();
  const from = client.messages.length;
  client.send(step ? { type: 'catch-up', step } : { type: 'catch-up' });
  try {
    const final = await client.waitFor(
      (m) => (m.type === 'catch-up' && m.state !== 'running') || m.type === 'error',
      CATCH_UP_TIMEOUT_MS,
      'the catch-up to end',
      from,
    );
    if (final.type === 'error') return { ok: false, message: final.message, ms: performance.now() - started };
    if (final.type !== 'catch-up') throw new Error('unreachable');
    const { diff } = failedResults(final.results);
    const detail = final.state === 'failed' ? failedResults(final.results).message : '';
    return {
      ok: final.state === 'passed',
      message: detail ? `${final.message} ${detail}` : final.message,
      ms: performance.now() - started,
      ...(diff ? { diff } : {}),
    };
  } catch (error) {
    return { ok: false, message: (error as Error).message, ms: performance.now() - started };
  }
}

async function openTerminals(client: CourseClient, lesson: LessonManifest): Promise<void> {
  for (const terminal of lesson.terminals) {
    const from = client.messages.length;
    client.send({ type: 'open', terminal: terminal.name, size: { cols: 120, rows: 40 } });
    const reply = await client.waitFor(
      (m) => (m.type === 'opened' && m.terminal === terminal.name) || (m.type === 'error' && m.ref === terminal.name),
      OPEN_TIMEOUT_MS,
      `terminal ${terminal.name} of ${lesson.id} to open`,
      from,
    );
    if (reply.type === 'error') throw new Error(`lesson ${lesson.id}: terminal ${terminal.name} did not open: ${reply.message}`);
  }
}

async function walkSteps(client: CourseClient, lesson: LessonManifest, steps: Step[], report: LessonReport, onStep?: (r: StepReport) => void): Promise<void> {
  const running = leftRunning({ lesson: lesson.id, steps });
  /** Steps with a block left running for a later block to interrupt: decided once it ended. */
  const deferred: { step: StepReport; source: Step; from: number; started: number }[] = [];

  const decide = async (entry: { step: StepReport; source: Step; from: number; started: number }) => {
    const { step, source, from } = entry;
    const budget = Math.max(0, ...source.checks.map((c) => c.timeoutMs)) + STEP_MARGIN_MS;
    try {
      const settled = (await client.waitFor(
        (m): m is StepMessage => m.type === 'step' && m.status.step === source.id && (m.status.state === 'passed' || m.status.state === 'failed'),
        budget,
        `step ${source.id} to be decided`,
        from,
      )) as StepMessage;
      if (settled.status.state === 'failed') {
        const { message, diff } = failedResults(settled.status.results);
        step.problems.push(`step did not pass: ${message}`);
        if (diff) step.diff ??= diff;
        showTerminal(entry);
      }
    } catch (error) {
      step.problems.push(`${(error as Error).message} (within ${budget / 1000} s of its blocks)`);
      showTerminal(entry);
    }
    finish(entry);
  };

  /** The end of the terminal of the step's last block, for a step whose blocks or checks failed. */
  const showTerminal = ({ step, source }: { step: StepReport; source: Step }) => {
    const name = source.blocks.at(-1)?.terminal ?? lesson.terminals[0]!.name;
    step.terminal ??= { name, text: tail(client.terminalText(name)) };
  };

  const finish = ({ step, started }: { step: StepReport; started: number }) => {
    step.ms = performance.now() - started;
    step.ok = step.problems.length === 0;
    report.steps.push(step);
    onStep?.(step);
  };

  for (const source of steps) {
    const started = performance.now();
    const step: StepReport = { lesson: lesson.id, step: source.id, title: source.title, ok: false, ms: 0, problems: [], warnings: [] };

    // 1. Every check fails before the step's blocks run.
    const verifyFrom = client.messages.length;
    client.send({ type: 'verify-step', step: source.id });
    try {
      const verified = await client.waitFor(
        (m) => (m.type === 'verified' && m.step === source.id) || (m.type === 'error' && m.ref === source.id),
        VERIFY_TIMEOUT_MS,
        `verification of ${source.id}`,
        verifyFrom,
      );
      if (verified.type === 'error') step.problems.push(`could not verify: ${verified.message}`);
      else if (verified.type === 'verified') {
        step.verify = verified;
        for (const check of verified.checks) {
          if (check.verdict === 'passes-too-early') step.problems.push(`check passes before the step ran: ${check.message}`);
          if (check.verdict === 'proves-nothing') step.warnings.push(check.message);
        }
      }
    } catch (error) {
      step.problems.push((error as Error).message);
    }

    // 2. Its blocks, in order, each waiting for the one before.
    const from = client.messages.length;
    let blocksOk = true;
    for (const block of source.blocks) {
      const mark = client.messages.length;
      client.send({ type: 'run', block: block.id });
      const leaveRunning = running.has(block.id);
      try {
        const reply = await client.waitFor(
          (m) =>
            (m.type === 'block' &&
              m.status.block === block.id &&
              (m.status.state === 'passed' || m.status.state === 'failed' || (leaveRunning && m.status.state === 'running'))) ||
            (m.type === 'error' && m.ref === block.id),
          BLOCK_BUDGET_MS,
          `block ${block.id} (${block.source.file}:${block.source.line}) to ${leaveRunning ? 'start' : 'finish'}`,
          mark,
        );
        if (reply.type === 'error') throw new Error(`block ${block.id} (${block.source.file}:${block.source.line}) could not run: ${reply.message}`);
        const status = (reply as BlockMessage).status;
        if (status.state === 'failed') {
          const { message, diff } = failedResults(status.results);
          step.problems.push(`block ${block.id} (${block.source.file}:${block.source.line}) failed: ${message}`);
          step.block = block.id;
          if (diff) step.diff = diff;
          step.terminal = { name: block.terminal, text: tail(client.terminalText(block.terminal)) };
          blocksOk = false;
          break;
        }
      } catch (error) {
        step.problems.push((error as Error).message);
        step.block = block.id;
        step.terminal = { name: block.terminal, text: tail(client.terminalText(block.terminal)) };
        blocksOk = false;
        break;
      }
    }

    // 3. The step passes (its state checks poll after its last block).
    const entry = { step, source, from, started };
    if (!blocksOk) finish(entry);
    else if (source.blocks.some((b) => running.has(b.id))) deferred.push(entry);
    else await decide(entry);
    while (deferred.length > 0) {
      const first = deferred[0]!;
      const ended = first.source.blocks.every(
        (b) =>
          !running.has(b.id) ||
          client.messages
            .slice(first.from)
            .some((m) => m.type === 'block' && m.status.block === b.id && (m.status.state === 'passed' || m.status.state === 'failed')),
      );
      if (!ended) break;
      deferred.shift();
      await decide(first);
    }
  }
  for (const entry of deferred) await decide(entry);
  report.steps.sort((a, b) => steps.findIndex((s) => s.id === a.step) - steps.findIndex((s) => s.id === b.step));
}
