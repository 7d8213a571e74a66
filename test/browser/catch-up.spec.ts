// The lesson page's "Catch up": offered when earlier lessons are not done, it runs their blocks in
// order through the runner and stops at the first that fails, saying which, with the diff. (The
// fixture course's first lesson ends with a deliberately wrong expectation, so a catch-up to the
// second lesson must stop there; a successful catch-up is covered by the runner's integration test.)

import { expect, test } from './fixtures.ts';

test('Catch up is offered on a lesson whose earlier lessons are not done, and stops at the failing block', async ({ lesson, page }) => {
  await lesson.open('02-two-terminals');
  const bar = page.locator('catch-up-bar');
  await expect(bar).toHaveAttribute('data-offer', 'true');
  await expect(bar.locator('[data-role="catch-up-text"]')).toHaveText(/You have not done 3 of the 3 steps before this lesson that build the lab it needs/);

  await bar.getByRole('button', { name: 'Catch up' }).click();

  await expect(bar).toHaveAttribute('data-state', 'failed');
  await expect(bar.locator('[data-role="catch-up-text"]')).toHaveText(
    'Catch-up stopped: step "Compare with a wrong expectation": block 01-first-steps/wrong-fruit/1 (test/fixture-course/01-first-steps.mdx:61) failed.',
  );
  await expect(bar.locator('.diff__del')).toHaveText(['-cherries']);
  await expect(bar.locator('.diff__add')).toHaveText(['+bananas']);
  await expect(bar.getByRole('button', { name: 'Catch up' })).toBeEnabled();

  // The earlier lesson's steps ran for real and were recorded as they passed.
  await lesson.open('01-first-steps');
  await expect(lesson.step('01-first-steps/hello')).toHaveAttribute('data-state', 'passed');
  await expect(lesson.step('01-first-steps/write-notes')).toHaveAttribute('data-state', 'passed');
  await expect(lesson.block('01-first-steps/wrong-fruit/1')).toHaveAttribute('data-state', 'failed');
  await expect.poll(() => lesson.terminalText('shell')).toMatch(/^hello from the course$/m);
});

test('the first lesson has nothing to catch up', async ({ lesson, page }) => {
  await lesson.open('01-first-steps');
  await expect(page.locator('catch-up-bar')).toHaveCount(0);
});
