// Workshop mode end to end: an instructor and several learners, each in a browser context of their
// own, against a workshop runner (local target) started for this file.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { WORKSHOP_EXPORT_PATH } from '../../runner/protocol.ts';
import { startWorkshop, type WorkshopProcess } from '../support/workshop-runner.ts';
import { expect, LessonPage, test } from './fixtures.ts';
import { WAIT_MS } from '../support/deadlines.ts';

const PORT = Number(process.env.COURSE_WORKSHOP_TEST_PORT ?? 47_231);
const SITE_DIR = '.cache/fixture-site';

test.describe.configure({ mode: 'serial' });

let workshop: WorkshopProcess;
let state: string;

test.beforeAll(async () => {
  state = fs.mkdtempSync(path.join(os.tmpdir(), 'workshop-browser-'));
  workshop = await startWorkshop(
    ['--name', 'Browser test room', '--site', SITE_DIR, '--port', String(PORT), '--target', 'local', '--trusted-room', '--state', state, '--unlocked', '1'],
    path.join(state, 'runner.log'),
  );
});

test.afterAll(async () => {
  await workshop?.stop();
  if (state) fs.rmSync(state, { recursive: true, force: true });
});

test.afterEach(async ({}, testInfo) => {
  if (testInfo.status !== testInfo.expectedStatus && fs.existsSync(workshop.logFile)) {
    await testInfo.attach('workshop runner log', { body: fs.readFileSync(workshop.logFile), contentType: 'text/plain' });
  }
});

async function learnerJoins(browser: Browser, name: string): Promise<{ context: BrowserContext; page: Page; lesson: LessonPage }> {
  const context = await browser.newContext({ baseURL: workshop.base });
  const page = await context.newPage();
  // Not joined yet: any course page sends the browser to the join form.
  await page.goto('/lessons/01-first-steps/');
  await expect(page).toHaveURL(/\/join\/\?next=/);
  await page.getByLabel('Workshop code').fill(workshop.code.toLowerCase());
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join' }).click();
  await expect(page).toHaveURL(/\/lessons\/01-first-steps\/$/);
  const lesson = new LessonPage(page);
  await expect(page.locator('connection-status')).toHaveAttribute('data-state', 'connected');
  await expect(page.locator('[data-role="workshop-badge"]')).toContainText(name);
  return { context, page, lesson };
}

async function openDashboard(browser: Browser): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL: workshop.base, acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(workshop.dashboardUrl);
  await expect(page.locator('workshop-dashboard')).toHaveAttribute('data-state', 'connected');
  // The secret leaves the address bar once read.
  expect(page.url()).not.toContain(workshop.key);
  return { context, page };
}

const row = (dashboard: Page, name: string) => dashboard.locator('.wsd-row', { has: dashboard.locator('.wsd-name', { hasText: name }) });
const cell = (dashboard: Page, name: string, step: string) => row(dashboard, name).locator(`.wsd-cell[data-step="${step}"]`);

test('learners join with the code, and their progress shows on the dashboard as it happens', async ({ browser }) => {
  const { page: dashboard } = await openDashboard(browser);
  await expect(dashboard.locator('[data-role="code"]')).toHaveText(workshop.code);

  // A wrong code is refused with a message that says what to do.
  const stranger = await browser.newContext({ baseURL: workshop.base });
  const strangerPage = await stranger.newPage();
  await strangerPage.goto('/join/');
  await strangerPage.getByLabel('Workshop code').fill('ZZZZZZ');
  await strangerPage.getByLabel('Your name').fill('Mallory');
  await strangerPage.getByRole('button', { name: 'Join' }).click();
  await expect(strangerPage.locator('[data-role="join-error"]')).toContainText('not this workshop’s code');
  await stranger.close();

  const ada = await learnerJoins(browser, 'Ada Browser');
  const bob = await learnerJoins(browser, 'Bob Browser');
  await expect(row(dashboard, 'Ada Browser')).toHaveAttribute('data-online', 'true');
  await expect(row(dashboard, 'Bob Browser')).toBeVisible();
  await expect(dashboard.locator('[data-role="stat-learners"]')).toHaveText('2');

  await ada.lesson.block('01-first-steps/hello/1').getByRole('button', { name: /run/i }).click();
  await expect(ada.lesson.step('01-first-steps/hello')).toHaveAttribute('data-state', 'passed');
  await expect(cell(dashboard, 'Ada Browser', '01-first-steps/hello')).toHaveAttribute('data-state', 'passed');
  await expect(cell(dashboard, 'Bob Browser', '01-first-steps/hello')).toHaveAttribute('data-state', 'idle');
  await expect(dashboard.locator('.wsd-step-head[data-step="01-first-steps/hello"]')).toHaveAttribute('data-done', '1');

  // A failing check's diff reaches the dashboard.
  await bob.lesson.block('01-first-steps/wrong-fruit/1').getByRole('button', { name: /run/i }).click();
  await expect(cell(dashboard, 'Bob Browser', '01-first-steps/wrong-fruit')).toHaveAttribute('data-state', 'failed');
  await row(dashboard, 'Bob Browser').click();
  await expect(dashboard.locator('[data-role="failure-diff"]')).toContainText('+bananas');

  await ada.context.close();
  await expect(row(dashboard, 'Ada Browser')).toHaveAttribute('data-online', 'false');
  await bob.context.close();
});

test('the instructor watches a learner’s terminal live, read-only', async ({ browser }) => {
  const { page: dashboard } = await openDashboard(browser);
  const cy = await learnerJoins(browser, 'Cy Watched');
  await cy.page.locator('.terminal__screen[data-terminal-screen="shell"] .xterm').click();
  await cy.page.keyboard.type('echo before-$((20 + 1))\n');
  await expect.poll(() => cy.lesson.terminalText('shell')).toMatch(/^before-21$/m);

  await row(dashboard, 'Cy Watched').click();
  await expect(dashboard.locator('[data-role="watch-terminal"]')).toHaveValue('shell');
  await dashboard.locator('[data-action="watch"]').click();
  await expect(dashboard.locator('[data-role="watch-status"]')).toHaveAttribute('data-state', 'live');
  const watched = () => dashboard.evaluate(() => (window as unknown as { workshopWatchText(): string }).workshopWatchText());
  // The restored screen first, then live output.
  await expect.poll(watched).toMatch(/^before-21$/m);
  await cy.page.keyboard.type('echo live-$((40 + 2))\n');
  await expect.poll(watched).toMatch(/^live-42$/m);

  // Typing on the dashboard reaches nothing: the watch view takes no input.
  await dashboard.locator('[data-role="watch-screen"]').click();
  await dashboard.keyboard.type('echo from-instructor\n');
  await cy.page.keyboard.type('echo after-$((1 + 2))\n');
  await expect.poll(() => cy.lesson.terminalText('shell')).toMatch(/^after-3$/m);
  expect(await cy.lesson.terminalText('shell')).not.toContain('from-instructor');
  await cy.context.close();
});

test('a hint reaches one learner, a message reaches all, and both can be dismissed', async ({ browser }) => {
  const { page: dashboard } = await openDashboard(browser);
  const dee = await learnerJoins(browser, 'Dee Hinted');
  const eve = await learnerJoins(browser, 'Eve Other');

  await row(dashboard, 'Dee Hinted').click();
  await dashboard.getByLabel('Hint').fill('Look at the second line of the diff.');
  await dashboard.getByRole('button', { name: 'Send hint' }).click();
  const deeHint = dee.page.locator('[data-role="workshop-notice"][data-kind="hint"]');
  await expect(deeHint).toContainText('Look at the second line of the diff.');

  await dashboard.getByLabel('Message to everyone').fill('Break in five minutes');
  await dashboard.getByRole('button', { name: 'Send to all' }).click();
  await expect(eve.page.locator('[data-role="workshop-notice"][data-kind="broadcast"]')).toContainText('Break in five minutes');
  await expect(dee.page.locator('[data-role="workshop-notice"][data-kind="broadcast"]')).toContainText('Break in five minutes');
  // Eve never got Dee's hint.
  await expect(eve.page.locator('[data-role="workshop-notice"][data-kind="hint"]')).toHaveCount(0);

  await deeHint.getByRole('button', { name: 'Dismiss' }).click();
  await expect(deeHint).toHaveCount(0);
  // Dismissed stays dismissed after a reload; the broadcast not yet dismissed comes back.
  await dee.page.reload();
  await expect(dee.page.locator('[data-role="workshop-notice"][data-kind="broadcast"]')).toContainText('Break in five minutes');
  await expect(dee.page.locator('[data-role="workshop-notice"][data-kind="hint"]')).toHaveCount(0);
  await dee.context.close();
  await eve.context.close();
});

test('a locked lesson shows as locked and its blocks are refused until the instructor opens it', async ({ browser }) => {
  const { page: dashboard } = await openDashboard(browser);
  const fay = await learnerJoins(browser, 'Fay Paced');
  await fay.page.goto('/');
  const card = fay.page.locator('a.lesson-card[data-lesson="02-two-terminals"]');
  await expect(card).toHaveAttribute('data-locked', '');
  await expect(card).toContainText('Locked');

  await fay.page.goto('/lessons/02-two-terminals/');
  await expect(fay.page.locator('[data-role="workshop-locked"]')).toBeVisible();
  await expect(fay.page.locator('connection-status')).toHaveAttribute('data-state', 'connected');
  const block = fay.lesson.block('02-two-terminals/block-1/1');
  await block.getByRole('button', { name: /run/i }).click();
  await expect(block).toHaveAttribute('data-state', 'failed');
  await expect(block).toContainText('is not open yet');

  await dashboard.locator('.wsd-lesson[data-lesson="02-two-terminals"]').click();
  await expect(dashboard.locator('.wsd-lesson[data-lesson="02-two-terminals"]')).toHaveAttribute('data-locked', 'false');
  await expect(fay.page.locator('[data-role="workshop-locked"]')).toHaveCount(0);
  await block.getByRole('button', { name: /run/i }).click();
  await expect(block).toHaveAttribute('data-state', 'passed');

  // Locked again for the next tests' sake, as the room started.
  await dashboard.locator('.wsd-lesson[data-lesson="02-two-terminals"]').click();
  await expect(dashboard.locator('.wsd-lesson[data-lesson="02-two-terminals"]')).toHaveAttribute('data-locked', 'true');
  await fay.context.close();
});

test('resetting a learner’s lab gives them fresh shells and keeps their progress', async ({ browser }) => {
  const { page: dashboard } = await openDashboard(browser);
  const gus = await learnerJoins(browser, 'Gus Reset');
  await gus.lesson.block('01-first-steps/hello/1').getByRole('button', { name: /run/i }).click();
  await expect(gus.lesson.step('01-first-steps/hello')).toHaveAttribute('data-state', 'passed');
  await gus.page.locator('.terminal__screen[data-terminal-screen="shell"] .xterm').click();
  await gus.page.keyboard.type('export RESET_MARK=old-shell; echo "mark=$RESET_MARK"\n');
  await expect.poll(() => gus.lesson.terminalText('shell')).toMatch(/^mark=old-shell$/m);

  await row(dashboard, 'Gus Reset').click();
  const reset = dashboard.locator('[data-action="reset"]');
  await reset.click();
  await expect(reset).toHaveText('Click again to reset');
  await reset.click();
  await expect(dashboard.locator('.wsd-log__item[data-kind="done"]', { hasText: 'lab was reset' })).toBeVisible();
  await expect(gus.page.locator('[data-role="workshop-notice"]', { hasText: 'reset your lab' })).toBeVisible();

  // The page reconnects by itself to a new shell, without the old shell's variable.
  await expect(gus.page.locator('connection-status')).toHaveAttribute('data-state', 'connected', { timeout: WAIT_MS });
  await gus.page.locator('.terminal__screen[data-terminal-screen="shell"] .xterm').click();
  await expect(async () => {
    await gus.page.keyboard.type('echo "now=${RESET_MARK:-fresh}"\n');
    await expect.poll(() => gus.lesson.terminalText('shell'), { timeout: 2_000 }).toMatch(/^now=fresh$/m);
  }).toPass({ timeout: WAIT_MS });
  await expect(gus.lesson.step('01-first-steps/hello')).toHaveAttribute('data-state', 'passed');
  await expect(cell(dashboard, 'Gus Reset', '01-first-steps/hello')).toHaveAttribute('data-state', 'passed');
  await gus.context.close();
});

test('the instructor brings a learner’s lab to a step: the earlier steps run in their terminal', async ({ browser }) => {
  const { page: dashboard } = await openDashboard(browser);
  const ivy = await learnerJoins(browser, 'Ivy Behind');
  await row(dashboard, 'Ivy Behind').click();
  await dashboard.locator('[data-role="catchup-step"]').selectOption('01-first-steps/wrong-fruit');
  await dashboard.getByRole('button', { name: 'Bring lab to this step' }).click();
  await expect(dashboard.locator('.wsd-log__item[data-kind="done"]', { hasText: 'Ivy Behind is caught up' })).toBeVisible({ timeout: WAIT_MS });
  await expect(cell(dashboard, 'Ivy Behind', '01-first-steps/hello')).toHaveAttribute('data-state', 'passed');
  await expect(cell(dashboard, 'Ivy Behind', '01-first-steps/write-notes')).toHaveAttribute('data-state', 'passed');
  await expect(cell(dashboard, 'Ivy Behind', '01-first-steps/wrong-fruit')).toHaveAttribute('data-state', 'idle');
  // It happened in her terminal, where she can see it.
  await expect(ivy.lesson.step('01-first-steps/write-notes')).toHaveAttribute('data-state', 'passed');
  await expect.poll(() => ivy.lesson.terminalText('shell')).toContain('hello from the course');
  await ivy.context.close();
});

test('results export as CSV from the dashboard and as JSON with the instructor secret', async ({ browser }) => {
  const { page: dashboard } = await openDashboard(browser);
  const download = dashboard.waitForEvent('download');
  await dashboard.getByRole('button', { name: 'Export CSV' }).click();
  const file = await (await download).path();
  const csv = fs.readFileSync(file, 'utf8');
  const lines = csv.trim().split('\r\n');
  expect(lines[0]).toBe('name,seat,joined_at,last_seen_at,passed,01-first-steps/hello,01-first-steps/write-notes,01-first-steps/wrong-fruit,02-two-terminals/block-1,02-two-terminals/answer');
  expect(lines.find((l) => l.startsWith('Ada Browser,'))).toMatch(/,1,passed,idle,idle,idle,idle$/);
  expect(lines.find((l) => l.startsWith('Bob Browser,'))).toMatch(/,0,idle,idle,failed,idle,idle$/);

  const response = await fetch(new URL(`${WORKSHOP_EXPORT_PATH}?format=json`, workshop.base), { headers: { Authorization: `Bearer ${workshop.key}` } });
  expect(response.status).toBe(200);
  const results = (await response.json()) as { workshop: { name: string }; learners: Array<{ name: string; passed: number; steps: Record<string, { state: string }> }> };
  expect(results.workshop.name).toBe('Browser test room');
  const fay = results.learners.find((l) => l.name === 'Fay Paced')!;
  expect(fay.steps['02-two-terminals/block-1']!.state).toBe('passed');
  expect(results.learners.map((l) => l.name)).toEqual(expect.arrayContaining(['Ada Browser', 'Bob Browser', 'Cy Watched', 'Gus Reset']));
});
