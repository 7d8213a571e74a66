// A workshop runner killed with SIGKILL and started again on the same state directory is the same
// workshop: same code and dashboard key, every learner and step kept, and the learner's open page
// reconnects by itself, with the screen it showed and a note that its shell is a new one.

import fs from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import os from 'node:os';
import path from 'node:path';
import { startWorkshop, type WorkshopProcess } from '../support/workshop-runner.ts';
import { expect, LessonPage, test } from './fixtures.ts';
import { WAIT_MS } from '../support/deadlines.ts';

const PORT = Number(process.env.COURSE_WORKSHOP_RESTART_PORT ?? 47_233);

let state: string;
const running: WorkshopProcess[] = [];

test.beforeAll(() => {
  state = fs.mkdtempSync(path.join(os.tmpdir(), 'workshop-restart-'));
});

test.afterAll(async () => {
  for (const workshop of running) await workshop.stop();
  if (state) fs.rmSync(state, { recursive: true, force: true });
});

/** The shell terminal's screen as the runner last kept it in the progress database. */
const savedScreen = (): { running: string | null } | undefined => {
  const db = new DatabaseSync(path.join(state, 'progress.db'), { readOnly: true });
  try {
    return db.prepare(`SELECT running FROM screens WHERE terminal = 'shell'`).get() as { running: string | null } | undefined;
  } finally {
    db.close();
  }
};

const start = async (args: string[] = []) => {
  const workshop = await startWorkshop(
    ['--site', '.cache/fixture-site', '--port', String(PORT), '--target', 'local', '--trusted-room', '--state', state, ...args],
    path.join(state, 'runner.log'),
  );
  running.push(workshop);
  return workshop;
};

test('kill -9 and restart: no progress lost, same code, the first key still opens the dashboard, the learner reconnects to their screen', async ({ browser }) => {
  const first = await start(['--name', 'Restart room']);
  const context = await browser.newContext({ baseURL: first.base });
  const page = await context.newPage();
  await page.goto(first.joinUrl);
  await page.getByLabel('Workshop code').fill(first.code);
  await page.getByLabel('Your name').fill('Hal Restart');
  await page.getByRole('button', { name: 'Join' }).click();
  await expect(page).toHaveURL(new URL('/', first.base).href);
  await page.goto('/lessons/01-first-steps/');
  const lesson = new LessonPage(page);
  await expect(page.locator('connection-status')).toHaveAttribute('data-state', 'connected');
  await lesson.block('01-first-steps/hello/1').getByRole('button', { name: /run/i }).click();
  await expect(lesson.step('01-first-steps/hello')).toHaveAttribute('data-state', 'passed');
  await lesson.block('01-first-steps/wrong-fruit/1').getByRole('button', { name: /run/i }).click();
  await expect(lesson.step('01-first-steps/wrong-fruit')).toHaveAttribute('data-state', 'failed');
  // A command left running when the runner dies.
  await page.locator('.terminal__screen[data-terminal-screen="shell"] .xterm').click();
  await page.keyboard.type('echo "typed before the crash"; sleep 500\n');
  await expect.poll(() => savedScreen()?.running, { timeout: WAIT_MS }).toContain('sleep 500');

  await first.stop('SIGKILL');
  expect(first.child.signalCode).toBe('SIGKILL');
  await expect(page.locator('connection-status')).toHaveAttribute('data-state', 'reconnecting');

  // No --name: the open workshop in the database is resumed.
  const second = await start();
  expect(second.code).toBe(first.code);
  // The key is printed once, when it is made: the database keeps only its hash, and the
  // instructor's key from the first start still opens the dashboard below.
  expect(first.key).not.toBe('');
  expect(second.key).toBe('');
  await expect(page.locator('connection-status')).toHaveAttribute('data-state', 'connected', { timeout: WAIT_MS });
  await expect(lesson.step('01-first-steps/hello')).toHaveAttribute('data-state', 'passed');
  await expect(lesson.step('01-first-steps/wrong-fruit')).toHaveAttribute('data-state', 'failed');
  // The screen as the learner left it, then a note that the shell is new and what ended with the old one.
  // (The note may wrap: its lines are joined before it is compared.)
  await expect.poll(async () => (await lesson.terminalText('shell')).replaceAll('\n', '')).toContain(
    '[the runner restarted, so this is a new shell; "echo \\"typed before the crash\\"; sleep 500" was running and has ended]',
  );
  const restored = await lesson.terminalText('shell');
  expect(restored).toMatch(/^bananas$[\s\S]*^typed before the crash/m);
  // Still the same learner: the workshop badge, and a block runs in a (new) shell.
  await expect(page.locator('[data-role="workshop-badge"]')).toContainText('Hal Restart');
  await lesson.block('01-first-steps/write-notes/1').getByRole('button', { name: /run/i }).click();
  await expect(lesson.step('01-first-steps/write-notes')).toHaveAttribute('data-state', 'passed');

  const dashboard = await (await browser.newContext()).newPage();
  await dashboard.goto(`${second.dashboardUrl}#key=${first.key}`);
  const row = dashboard.locator('.wsd-row', { has: dashboard.locator('.wsd-name', { hasText: 'Hal Restart' }) });
  await expect(row.locator('.wsd-cell[data-step="01-first-steps/hello"]')).toHaveAttribute('data-state', 'passed');
  await expect(row.locator('.wsd-cell[data-step="01-first-steps/write-notes"]')).toHaveAttribute('data-state', 'passed');
  await expect(row.locator('.wsd-cell[data-step="01-first-steps/wrong-fruit"]')).toHaveAttribute('data-state', 'failed');
  await expect(row).toHaveAttribute('data-online', 'true');
  await context.close();
});
