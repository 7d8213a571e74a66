import { expect, test } from './fixtures.ts';
import { WAIT_MS } from '../support/deadlines.ts';

const LESSON = '01-first-steps';

test('clicking Run types the block in the terminal, shows its output and marks the step done', async ({ lesson, page }) => {
  await lesson.open(LESSON);
  const block = lesson.block(`${LESSON}/hello/1`);
  const step = lesson.step(`${LESSON}/hello`);
  await expect(block).toHaveAttribute('data-state', 'idle');
  await expect(step).toHaveAttribute('data-state', 'idle');

  await block.getByRole('button', { name: /^Run/ }).click();

  await expect.poll(() => lesson.terminalText('shell')).toMatch(/^hello from the course$/m);
  await expect(block).toHaveAttribute('data-state', 'passed');
  await expect(block.locator('[data-role="block-state"]')).toHaveText(/^Passed · exit 0/);
  await expect(step).toHaveAttribute('data-state', 'passed');
  await expect(step.locator('[data-role="step-state"]')).toHaveText('Done');
  await expect(page.locator('lesson-progress [data-role="progress-text"]')).toHaveText('1 of 3 steps done');
});

test('Run buttons are reachable and usable from the keyboard', async ({ lesson, page }) => {
  await lesson.open(LESSON);
  const run = lesson.block(`${LESSON}/hello/1`).getByRole('button', { name: /^Run/ });
  // Tab through the page until the first Run button has the focus, as a keyboard user would.
  await expect(async () => {
    await page.keyboard.press('Tab');
    await expect(run).toBeFocused({ timeout: 100 });
  }).toPass({ timeout: WAIT_MS });
  await page.keyboard.press('Enter');
  await expect(lesson.block(`${LESSON}/hello/1`)).toHaveAttribute('data-state', 'passed');
});

test('a heredoc runs exactly as written and its state check passes after it', async ({ lesson }) => {
  await lesson.open(LESSON);
  const check = lesson.step(`${LESSON}/write-notes`).locator('.state-check[data-check="0"]');
  await expect(check).toHaveAttribute('data-state', 'idle');

  await lesson.block(`${LESSON}/write-notes/1`).getByRole('button', { name: /^Run/ }).click();

  await expect.poll(() => lesson.terminalText('shell')).toMatch(/^\s*2$/m);
  await expect(lesson.block(`${LESSON}/write-notes/1`)).toHaveAttribute('data-state', 'passed');
  await expect(check).toHaveAttribute('data-state', 'passed');
  await expect(lesson.step(`${LESSON}/write-notes`)).toHaveAttribute('data-state', 'passed');
});

test('a failing expected output shows the reason and a diff of expected against actual', async ({ lesson }) => {
  await lesson.open(LESSON);
  const block = lesson.block(`${LESSON}/wrong-fruit/1`);
  await expect(block.locator('[data-role="block-result"]')).toBeHidden();

  await block.getByRole('button', { name: /^Run/ }).click();

  await expect(block).toHaveAttribute('data-state', 'failed');
  const result = block.locator('[data-role="block-result"]');
  await expect(result).toBeVisible();
  await expect(result.locator('.run-block__reason')).not.toBeEmpty();
  await expect(result.locator('.diff__del')).toHaveText(['-cherries']);
  await expect(result.locator('.diff__add')).toHaveText(['+bananas']);
  await expect(result.locator('.diff__ctx').first()).toHaveText(' apples');
  await expect(lesson.step(`${LESSON}/wrong-fruit`)).not.toHaveAttribute('data-state', 'passed');
});

test('a reload keeps the step states and the terminal screen', async ({ lesson, page }) => {
  await lesson.open(LESSON);
  await lesson.block(`${LESSON}/hello/1`).getByRole('button', { name: /^Run/ }).click();
  await expect(lesson.step(`${LESSON}/hello`)).toHaveAttribute('data-state', 'passed');
  await expect.poll(() => lesson.terminalText('shell')).toMatch(/^hello from the course$/m);

  await page.reload();
  await expect(page.locator('connection-status')).toHaveAttribute('data-state', 'connected');

  await expect(lesson.step(`${LESSON}/hello`)).toHaveAttribute('data-state', 'passed');
  await expect(lesson.block(`${LESSON}/hello/1`)).toHaveAttribute('data-state', 'passed');
  await expect.poll(() => lesson.terminalText('shell')).toMatch(/echo "hello from the course"[\s\S]*^hello from the course$/m);
  await expect(page.locator('lesson-progress [data-role="progress-text"]')).toHaveText('1 of 3 steps done');
});

test('the course home shows each lesson’s progress', async ({ lesson, page }) => {
  await lesson.open(LESSON);
  await lesson.block(`${LESSON}/hello/1`).getByRole('button', { name: /^Run/ }).click();
  await expect(lesson.step(`${LESSON}/hello`)).toHaveAttribute('data-state', 'passed');

  await page.goto('/');
  const cards = page.locator('.lesson-card');
  await expect(cards).toHaveCount(2);
  await expect(cards.nth(0).locator('.lesson-card__title')).toHaveText('First steps in the shell');
  await expect(cards.nth(0).locator('course-progress')).toHaveAttribute('data-state', 'started');
  await expect(cards.nth(0).locator('[data-role="progress-text"]')).toHaveText('1 of 3 done');
  await expect(cards.nth(1).locator('course-progress')).toHaveAttribute('data-state', 'new');
});

test('the state check fails before its step’s block runs, and passes after', async ({ lesson, page }) => {
  await lesson.open(LESSON);
  // The check's own command, typed in this learner's fresh shell, fails: the file is not there yet.
  await page.locator('.terminal__screen[data-terminal-screen="shell"] .xterm').click();
  await page.keyboard.type(`grep -q 'leaf02 peers' fixture-notes.txt; echo "check exit $?"\n`);
  await expect.poll(() => lesson.terminalText('shell')).toMatch(/^check exit [12]$/m);
  await expect(lesson.step(`${LESSON}/write-notes`)).not.toHaveAttribute('data-state', 'passed');

  await lesson.block(`${LESSON}/write-notes/1`).getByRole('button', { name: /^Run/ }).click();
  await expect(lesson.step(`${LESSON}/write-notes`).locator('.state-check[data-check="0"]')).toHaveAttribute('data-state', 'passed');
  await expect(lesson.step(`${LESSON}/write-notes`)).toHaveAttribute('data-state', 'passed');
});

test('Copy puts the block’s code on the clipboard', async ({ lesson, page, context, baseURL }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(baseURL!).origin });
  await lesson.open(LESSON);
  const block = lesson.block(`${LESSON}/write-notes/1`);
  await block.getByRole('button', { name: 'Copy the code' }).click();
  await expect(block.getByRole('button', { name: 'Copy the code' })).toHaveText('Copied');
  // Without a final newline, so pasting into a terminal does not run the last line at once.
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(
    "cat > fixture-notes.txt <<'NOTES'\nleaf01 peers with spine01\nleaf02 peers with spine01\nNOTES\nwc -l < fixture-notes.txt",
  );
});
