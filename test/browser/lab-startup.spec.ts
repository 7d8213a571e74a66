// A lab's start as the learner sees it, Stop on a block that hangs, and Reset lab, against the runner with the lab target on the scripted lab
// (test/browser/scripted-lab.sh), whose start a test holds or fails with files.

import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from './fixtures.ts';
import { LAB_RUNNER_URL, scriptedLabDir } from './servers.ts';

test.use({ baseURL: LAB_RUNNER_URL });
// The control files are shared by every learner of the scripted lab: one test at a time.
test.describe.configure({ mode: 'serial' });

const control = (name: string) => path.join(scriptedLabDir(), name);

test.beforeEach(() => fs.mkdirSync(scriptedLabDir(), { recursive: true }));
test.afterEach(() => {
  for (const name of ['hold-fabric', 'fail-next-up', 'fail-next-fabric', 'hold-echo']) fs.rmSync(control(name), { force: true });
});

test('the lab start shows its phases, the terminal opens before the fabric converges, and Run waits for it', async ({ lesson, page }) => {
  fs.writeFileSync(control('hold-fabric'), '');
  await lesson.open('01-first-steps');
  const startup = page.locator('lab-startup');
  await expect(startup).toBeVisible();
  await expect(startup.locator('[data-role="title"]')).toHaveText('Starting your lab: BGP fabric (3 of 16 sessions Established)');
  await expect(startup.locator('[data-role="count"]')).toHaveText('2 of 3');
  const run = lesson.block('01-first-steps/hello/1').getByRole('button', { name: /^Run/ });
  await expect(run).toBeDisabled();
  await expect(run).toHaveText('Lab starting…');
  // The devices exist: the learner already has a prompt to type at.
  await expect.poll(() => lesson.terminalText('shell')).toMatch(/[$#] $/);
  await page.screenshot({ path: test.info().outputPath('lab-starting.png') });

  fs.rmSync(control('hold-fabric'));
  await expect(startup).toBeHidden();
  await expect(run).toBeEnabled();
  await expect(run).toHaveText('Run');
  await run.click();
  await expect(lesson.block('01-first-steps/hello/1')).toHaveAttribute('data-state', 'passed');
});

test('a failed start says why in one sentence, with the lab log folded away, and Retry starts it again', async ({ lesson, page }) => {
  fs.writeFileSync(control('fail-next-up'), '');
  await lesson.open('01-first-steps');
  const startup = page.locator('lab-startup');
  await expect(startup.locator('[data-role="title"]')).toHaveText('Your lab did not start');
  await expect(startup.locator('[data-role="message"]')).toHaveText('The lab did not start: Not Established within the 1800 s wait: leaf10:10.0.0.0');
  await expect(startup.locator('li[data-state="failed"]')).toHaveText(/Switches, nodes and links/);
  const details = startup.locator('details');
  await expect(details.locator('pre')).toBeHidden();
  await details.locator('summary').click();
  await expect(details.locator('pre')).toContainText('leaf10        up    2/2 links');
  // The panel says it all: no second copy of the error in the page's notice.
  await expect(page.locator('[data-role="notice"]')).toBeHidden();
  await page.screenshot({ path: test.info().outputPath('lab-failed.png') });

  await startup.getByRole('button', { name: 'Retry' }).click();
  await expect(startup).toBeHidden();
  await expect.poll(() => lesson.terminalText('shell')).toMatch(/[$#] $/);
  await lesson.block('01-first-steps/hello/1').getByRole('button', { name: /^Run/ }).click();
  await expect(lesson.block('01-first-steps/hello/1')).toHaveAttribute('data-state', 'passed');
});

test('a start that fails after the terminals opened is retried by Retry, which starts the lab again', async ({ lesson, page }) => {
  fs.writeFileSync(control('fail-next-fabric'), '');
  await lesson.open('01-first-steps');
  const startup = page.locator('lab-startup');
  await expect(startup.locator('[data-role="message"]')).toHaveText('The lab did not start: Not Established within the 1800 s wait: spine1:swp1');
  await expect(startup.locator('li[data-state="failed"]')).toHaveText(/BGP fabric/);
  // The devices existed: the terminal is open, so nothing but Retry starts the lab again.
  await expect.poll(() => lesson.terminalText('shell')).toMatch(/[$#] $/);
  await startup.getByRole('button', { name: 'Retry' }).click();
  await expect(startup).toBeHidden();
  await lesson.block('01-first-steps/hello/1').getByRole('button', { name: /^Run/ }).click();
  await expect(lesson.block('01-first-steps/hello/1')).toHaveAttribute('data-state', 'passed');
});

test('Stop ends a block that hangs, and the terminal is free for the next one', async ({ lesson }) => {
  fs.writeFileSync(control('hold-echo'), '');
  await lesson.open('01-first-steps');
  const block = lesson.block('01-first-steps/hello/1');
  const stop = block.getByRole('button', { name: /^Stop/ });
  await expect(stop).toBeHidden();
  await block.getByRole('button', { name: /^Run/ }).click();
  await expect(block).toHaveAttribute('data-state', 'running');
  await stop.click();
  await expect(block).toHaveAttribute('data-state', 'failed');
  await expect(block.locator('[data-role="block-state"]')).toContainText('exit 130');
  await expect(stop).toBeHidden();

  fs.rmSync(control('hold-echo'));
  await block.getByRole('button', { name: /^Run/ }).click();
  await expect(block).toHaveAttribute('data-state', 'passed');
});

test('Reset lab asks first, then starts a fresh lab; the progress is kept or cleared as the learner chose', async ({ lesson, page }) => {
  await lesson.open('01-first-steps');
  const hello = lesson.block('01-first-steps/hello/1');
  await hello.getByRole('button', { name: /^Run/ }).click();
  await expect(hello).toHaveAttribute('data-state', 'passed');
  await page.locator('.terminal__screen[data-terminal-screen="shell"] .xterm').click();
  await page.keyboard.type('touch made-before-the-reset && echo "pid $$"\n');
  await expect.poll(() => lesson.terminalText('shell')).toMatch(/^pid \d+$/m);
  const oldShell = (await lesson.terminalText('shell')).match(/^pid (\d+)$/m)![1];

  const reset = page.getByRole('button', { name: 'Reset lab' });
  const dialog = page.getByRole('dialog', { name: 'Reset your lab?' });
  await reset.click();
  await expect(dialog).toBeVisible();
  await page.screenshot({ path: test.info().outputPath('reset-dialog.png') });
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.locator('connection-status')).toHaveAttribute('data-state', 'connected');

  await reset.click();
  await dialog.getByRole('button', { name: 'Reset lab' }).click();
  // A fresh lab: a new shell, and nothing the learner made in the old one.
  // The page reconnects by itself; until it has, what is typed may still reach the old shell, so
  // each attempt focuses the terminal (the closed dialog gave focus back to its button) and reads
  // the newest answer.
  await expect.poll(async () => {
    await page.locator('.terminal__screen[data-terminal-screen="shell"] .xterm').click();
    await page.keyboard.type('echo "pid $$ files $(ls | wc -l)"\n');
    return [...(await lesson.terminalText('shell')).matchAll(/^pid (\d+) files (\d+)$/gm)].at(-1)?.slice(1);
  }).toEqual([expect.not.stringMatching(`^${oldShell}$`), '0']);
  await expect(page.locator('connection-status')).toHaveAttribute('data-state', 'connected');
  await expect(hello).toHaveAttribute('data-state', 'passed');

  await reset.click();
  await dialog.getByLabel('Clear them too, and start the course over').check();
  await dialog.getByRole('button', { name: 'Reset lab' }).click();
  await expect(hello).toHaveAttribute('data-state', 'idle');
  await expect(page.locator('lesson-progress [data-role="progress-text"]')).toHaveText('0 of 3 steps done');
});
