import { expect, test } from './fixtures.ts';

test('a lesson with two terminals shows tabs, and a block runs in the terminal it names', async ({ lesson, page }) => {
  await lesson.open('02-two-terminals');
  const tabs = page.getByRole('tab');
  await expect(tabs).toHaveText(['Lab host', 'k8s-master']);
  await expect(page.getByRole('tab', { name: 'Lab host' })).toHaveAttribute('aria-selected', 'true');
  // The background tab's shell has the visible one's size from the start: switching tabs to run a
  // block resizes nothing, so no redraw races the typed command (the learner's prompt is longer
  // than this pane is wide, which is when a late resize garbled the line).
  expect(await lesson.terminalSize('k8s-master')).toEqual(await lesson.terminalSize('host'));

  await lesson.block('02-two-terminals/answer/1').getByRole('button', { name: /^Run/ }).click();

  await expect(page.getByRole('tab', { name: 'k8s-master' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.locator('#terminal-k8s-master')).toBeVisible();
  await expect.poll(() => lesson.terminalText('k8s-master')).toMatch(/# echo "answer: \$\(\(6 \* 7\)\)"\nanswer: 42$/m);
  await expect(lesson.block('02-two-terminals/answer/1')).toHaveAttribute('data-state', 'passed');
  expect(await lesson.terminalText('host')).not.toMatch(/answer: 42/);

  // A run block outside any Step is a step of its own.
  await lesson.block('02-two-terminals/block-1/1').getByRole('button', { name: /^Run/ }).click();
  await expect(page.getByRole('tab', { name: 'Lab host' })).toHaveAttribute('aria-selected', 'true');
  await expect(lesson.block('02-two-terminals/block-1/1')).toHaveAttribute('data-step-state', 'passed');
  await expect(page.locator('lesson-progress [data-role="progress-text"]')).toHaveText('All 2 steps done');
});

test('a background tab shows its newest output when a block selects it, after a reload restored a long screen there', async ({ lesson, page }) => {
  await lesson.open('02-two-terminals');
  await page.getByRole('tab', { name: 'k8s-master' }).click();
  await page.locator('#terminal-k8s-master .xterm').click();
  await page.keyboard.type('seq 1 400\n');
  await expect.poll(() => lesson.terminalText('k8s-master')).toMatch(/^400$/m);
  // After the reload the host tab is in front, and k8s-master's restored screen is drawn behind it.
  await page.reload();
  await expect(page.locator('connection-status')).toHaveAttribute('data-state', 'connected');
  await expect.poll(() => lesson.terminalText('k8s-master')).toMatch(/^400$/m);
  await lesson.block('02-two-terminals/answer/1').getByRole('button', { name: /^Run/ }).click();
  await expect(lesson.block('02-two-terminals/answer/1')).toHaveAttribute('data-state', 'passed');
  const viewport = page.locator('#terminal-k8s-master .xterm-viewport');
  await expect.poll(() => viewport.evaluate((element) => element.scrollHeight - element.clientHeight - element.scrollTop)).toBeLessThan(2);
  await expect(page.locator('#terminal-k8s-master .xterm-rows')).toContainText('answer: 42');
});

test('the split between text and terminal resizes with the keyboard and the pointer', async ({ lesson, page }) => {
  await page.setViewportSize({ width: 1400, height: 900 });
  await lesson.open('01-first-steps');
  const handle = page.getByRole('separator');
  const text = page.locator('.split__text');
  const before = (await text.boundingBox())!.width;

  await handle.focus();
  await page.keyboard.press('Shift+ArrowRight');
  await expect(handle).toHaveAttribute('aria-valuenow', '60');
  await expect.poll(async () => (await text.boundingBox())!.width).toBeGreaterThan(before + 100);

  const box = (await handle.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(400, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await expect.poll(async () => Number(await handle.getAttribute('aria-valuenow'))).toBeLessThan(35);
});

test('on a narrow screen the terminal and the text are stacked', async ({ lesson, page }) => {
  await page.setViewportSize({ width: 420, height: 860 });
  await lesson.open('01-first-steps');
  const terminal = (await page.locator('.split__side').boundingBox())!;
  const text = (await page.locator('.split__text').boundingBox())!;
  expect(terminal.width).toBeGreaterThan(400);
  expect(text.width).toBeGreaterThan(400);
  expect(text.y).toBeGreaterThanOrEqual(terminal.y + terminal.height - 1);
  await expect(page.getByRole('separator')).toBeHidden();
});

test('a dropped connection shows "Reconnecting…", then reconnects and restores the terminal', async ({ lesson, page }) => {
  const sockets: Array<{ close(options?: { code?: number; reason?: string }): Promise<void> }> = [];
  await page.routeWebSocket(/\/ws\?/, (socket) => {
    sockets.push(socket);
    // The first connection goes through; the second is refused, so the page must retry; the
    // third goes through again.
    if (sockets.length === 2) void socket.close({ code: 1011, reason: 'refused by the test' });
    else socket.connectToServer();
  });
  await lesson.open('01-first-steps');
  const run = lesson.block('01-first-steps/hello/1').getByRole('button', { name: /^Run/ });
  await expect(page.locator('connection-status')).toHaveText('Connected');
  await run.click();
  await expect.poll(() => lesson.terminalText('shell')).toMatch(/^hello from the course$/m);

  await sockets[0]!.close({ code: 1012, reason: 'runner restarting' });

  await expect(page.locator('connection-status')).toHaveAttribute('data-state', 'reconnecting');
  await expect(page.locator('connection-status')).toHaveText('Reconnecting…');
  await expect(run).toBeDisabled();
  await expect(page.locator('connection-status')).toHaveAttribute('data-state', 'connected');
  expect(sockets.length).toBeGreaterThanOrEqual(3);
  await expect(run).toBeEnabled();
  await expect.poll(() => lesson.terminalText('shell')).toMatch(/^hello from the course$/m);
  await expect(lesson.step('01-first-steps/hello')).toHaveAttribute('data-state', 'passed');
});
