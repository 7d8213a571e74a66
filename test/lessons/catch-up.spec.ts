// A new learner who opens the course's last lesson first: Catch up, clicked in the page, brings
// their fresh lab to the lesson's start and passes; on the lab, no failure (`lab fail`) is left in
// effect afterwards, which the lab host's `lab restore` says.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { loadCourse } from '../../src/course/load-course.ts';
import { admitContext } from '../support/start-key.ts';
import { LAB_WAIT_MS } from '../support/deadlines.ts';
import { CATCH_UP_BUDGET_MS, catchUpInPage, terminalText } from './browser-walk.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COURSE_DIR = process.env.COURSE_CHECK_DIR ?? 'lessons';
const TARGET = process.env.COURSE_CHECK_TARGET ?? 'lab';
const { manifest } = loadCourse({ courseDir: path.resolve(ROOT, COURSE_DIR), projectRoot: ROOT });
const last = [...manifest.lessons].sort((a, b) => a.order - b.order).at(-1);

test(`catch-up into the last lesson (${last?.id ?? 'none'}) passes and leaves no failure in effect`, async ({ browser }, testInfo) => {
  test.skip(!last || last.steps.length === 0, 'the course has no lesson to catch up to');
  test.setTimeout(LAB_WAIT_MS + CATCH_UP_BUDGET_MS);
  const baseURL = String(testInfo.project.use.baseURL);
  const context = await browser.newContext({ baseURL });
  try {
    await admitContext(context, baseURL);
    const page = await context.newPage();
    await page.goto(`/lessons/${last!.id}/`);
    await expect(page.locator('connection-status')).toHaveAttribute('data-state', 'connected');
    expect(await catchUpInPage(page)).toBeNull();
    await page.screenshot({ path: testInfo.outputPath('caught-up.png') });

    if (TARGET !== 'lab' || !last!.terminals.some((terminal) => terminal.name === 'host')) return;
    await page.getByRole('tab', { name: last!.terminals.find((terminal) => terminal.name === 'host')!.title }).click();
    await page.locator('.terminal__screen[data-terminal-screen="host"] .xterm').click();
    await page.keyboard.type('lab restore\n');
    await expect.poll(() => terminalText(page, 'host')).toMatch(/^Nothing has failed$/m);
  } finally {
    await context.close();
  }
});
