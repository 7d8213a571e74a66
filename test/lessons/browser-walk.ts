// The course check in a real browser: a lesson walked as a learner would, on the lesson page. For
// each step its checks are first verified to fail before it runs (through the runner's protocol,
// as the same learner), then each block's Run button is clicked in order, each waiting for the one
// before, and the step must be marked done within its budget. The result says, per step, what
// failed (block, reason, diff, terminal text); the caller turns failures into test failures.

import type { Page } from '@playwright/test';
import { leftRunning } from '../../runner/catch-up.ts';
import { LEARNER_COOKIE, type LessonManifest } from '../../runner/protocol.ts';
import { CourseClient } from '../../scripts/course-check/client.ts';
import { BLOCK_BUDGET_MS } from '../../scripts/course-check/walk.ts';

/** After its blocks, a step gets its longest state check's timeout plus this to be marked done. */
const STEP_MARGIN_MS = 5_000;
/** A catch-up through the page runs every earlier block; it gets this long. */
export const CATCH_UP_BUDGET_MS = 10 * 60_000;
/** How often the page's state attributes are read while waiting (a poll, not a sleep). */
const POLL_MS = 50;

export type BrowserStepResult = {
  step: string;
  title: string;
  ok: boolean;
  ms: number;
  problems: string[];
  warnings: string[];
  block?: string;
  diff?: string;
  terminal?: { name: string; text: string };
};

export type BrowserLessonResult = { lesson: string; ms: number; steps: BrowserStepResult[] };

/** The budget of a whole lesson: every block's, every step's checks, and the verifications. */
export function lessonBudgetMs(lesson: LessonManifest): number {
  return lesson.steps.reduce(
    (sum, step) => sum + step.blocks.length * BLOCK_BUDGET_MS + Math.max(0, ...step.checks.map((c) => c.timeoutMs)) + STEP_MARGIN_MS + 5_000,
    30_000,
  );
}

async function pollUntil<T>(probe: () => Promise<T | null>, timeoutMs: number): Promise<T | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export function terminalText(page: Page, name: string): Promise<string> {
  return page
    .evaluate((terminal) => (window as unknown as { courseTerminalText(name: string): string }).courseTerminalText(terminal), name)
    .catch((error: Error) => `(could not read the terminal: ${error.message})`);
}

/** The step's state as the page shows it: its <lesson-step>, or the Run block that is the whole step. */
function stepState(page: Page, step: string): Promise<string> {
  return page.evaluate((id) => {
    const element = document.querySelector<HTMLElement>(`lesson-step[data-step="${CSS.escape(id)}"]`);
    if (element) return element.dataset.state ?? 'idle';
    const block = document.querySelector<HTMLElement>(`run-block[data-own-step="true"][data-step="${CSS.escape(id)}"]`);
    return block?.dataset.stepState ?? 'idle';
  }, step);
}

/** Opens a protocol connection as the page's learner, for verifications. */
export async function learnerClient(page: Page, baseURL: string, lesson: string): Promise<CourseClient> {
  const cookie = (await page.context().cookies(baseURL)).find((c) => c.name === LEARNER_COOKIE);
  if (!cookie) throw new Error('the page has no learner cookie yet: open a lesson page first');
  const session = await page.evaluate(() => fetch('/api/session', { cache: 'no-store' }).then((r) => r.json() as Promise<{ token: string }>));
  return await CourseClient.open(baseURL, { cookie: `${LEARNER_COOKIE}=${cookie.value}`, token: session.token, id: cookie.value }, lesson);
}

/** Clicks the page's Catch up and waits for the outcome; returns null when it passed, else why not. */
export async function catchUpInPage(page: Page): Promise<string | null> {
  const bar = page.locator('catch-up-bar');
  await bar.getByRole('button', { name: 'Catch up' }).click();
  const state = await pollUntil(async () => {
    const value = await bar.getAttribute('data-state');
    return value === 'passed' || value === 'failed' ? value : null;
  }, CATCH_UP_BUDGET_MS);
  const text = (await bar.locator('[data-role="catch-up-text"]').textContent()) ?? '';
  if (state === 'passed') return null;
  const detail = (await bar.locator('[data-role="catch-up-detail"]').textContent()) ?? '';
  return state === null ? `the catch-up did not end within ${CATCH_UP_BUDGET_MS / 1000} s (${text})` : `${text}\n${detail}`.trim();
}

/** Walks the lesson open on `page` (connected); never throws for a failing step: see the result. */
export async function walkLessonInPage(page: Page, baseURL: string, lesson: LessonManifest): Promise<BrowserLessonResult> {
  const started = performance.now();
  const result: BrowserLessonResult = { lesson: lesson.id, ms: 0, steps: [] };
  const running = leftRunning({ lesson: lesson.id, steps: lesson.steps });
  const client = await learnerClient(page, baseURL, lesson.id);
  try {
    for (const step of lesson.steps) {
      const stepStarted = performance.now();
      const report: BrowserStepResult = { step: step.id, title: step.title, ok: false, ms: 0, problems: [], warnings: [] };
      result.steps.push(report);

      // 1. Fail before: every check of the step, on the lab as it is now.
      const from = client.messages.length;
      client.send({ type: 'verify-step', step: step.id });
      const verified = await client
        .waitFor((m) => (m.type === 'verified' && m.step === step.id) || (m.type === 'error' && m.ref === step.id), 60_000, `verification of ${step.id}`, from)
        .catch((error: Error) => error);
      if (verified instanceof Error) report.problems.push(verified.message);
      else if (verified.type === 'error') report.problems.push(`could not verify: ${verified.message}`);
      else if (verified.type === 'verified') {
        for (const check of verified.checks) {
          if (check.verdict === 'passes-too-early') report.problems.push(`check passes before the step ran: ${check.message}`);
          if (check.verdict === 'proves-nothing') report.warnings.push(check.message);
        }
      }

      // 2. Click Run on each block, in order, each waiting for the one before.
      let blocksOk = true;
      for (const block of step.blocks) {
        const element = page.locator(`run-block[data-block="${block.id}"]`);
        const where = `${block.source.file}:${block.source.line}`;
        await element.scrollIntoViewIfNeeded();
        await element.getByRole('button', { name: /^Run/ }).click();
        const leave = running.has(block.id);
        const state = await pollUntil(async () => {
          const value = await element.getAttribute('data-state');
          return value === 'passed' || value === 'failed' || (leave && value === 'running') ? value : null;
        }, BLOCK_BUDGET_MS);
        if (state === 'passed' || state === 'running') continue;
        report.block = block.id;
        report.terminal = { name: block.terminal, text: await terminalText(page, block.terminal) };
        if (state === null) report.problems.push(`block ${block.id} (${where}) did not ${leave ? 'start' : 'finish'} within ${BLOCK_BUDGET_MS / 1000} s`);
        else {
          const reason = (await element.locator('.run-block__reason').textContent()) ?? 'failed';
          report.problems.push(`block ${block.id} (${where}) failed: ${reason}`);
          const diff = await element.locator('pre.diff').allTextContents();
          if (diff.length) report.diff = diff.join('\n');
        }
        blocksOk = false;
        break;
      }

      // 3. The step is marked done (long-running blocks: once a later block has stopped them).
      if (blocksOk && !step.blocks.some((b) => running.has(b.id))) {
        const budget = Math.max(0, ...step.checks.map((c) => c.timeoutMs)) + STEP_MARGIN_MS;
        const state = await pollUntil(async () => {
          const value = await stepState(page, step.id);
          return value === 'passed' || value === 'failed' ? value : null;
        }, budget);
        if (state !== 'passed') {
          const messages = await page
            .locator(`.state-check[data-step="${step.id}"][data-state="failed"] [data-role="check-message"]`)
            .allTextContents();
          report.problems.push(
            state === null
              ? `step ${step.id} was not marked done within ${budget / 1000} s of its last block`
              : `step ${step.id} was not marked done: ${messages.join('; ') || 'a check did not pass'}`,
          );
          const name = step.blocks.at(-1)?.terminal ?? lesson.terminals[0]!.name;
          report.terminal ??= { name, text: await terminalText(page, name) };
        }
      }
      report.ok = report.problems.length === 0;
      report.ms = performance.now() - stepStarted;
    }
  } finally {
    await client.close();
  }
  result.ms = performance.now() - started;
  return result;
}

/** One failure, as a test reports it: lesson, step, block, why, and the diff. */
export function describeFailure(lesson: string, step: BrowserStepResult): string {
  const lines = [`${lesson} › ${step.step} ("${step.title}")${step.block ? ` › block ${step.block}` : ''}`, ...step.problems.map((p) => `  ${p}`)];
  if (step.diff) lines.push('  diff (- expected, + actual):', ...step.diff.split('\n').map((l) => `    ${l}`));
  return lines.join('\n');
}
