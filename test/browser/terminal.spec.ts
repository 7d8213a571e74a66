import { expect, test } from './fixtures.ts';
import { WAIT_MS } from '../support/deadlines.ts';

test('typing in the terminal reaches the shell, and a flood of output arrives whole (flow control)', async ({ lesson, page }) => {
  await lesson.open('01-first-steps');
  await page.locator('.terminal__screen[data-terminal-screen="shell"] .xterm').click();
  // Far more than the runner's high watermark: without the page's acks the shell would be paused
  // for good and the last lines would never come.
  await page.keyboard.type('seq 1 120000 && echo flood-done\n');
  await expect.poll(() => lesson.terminalText('shell'), { timeout: WAIT_MS }).toMatch(/^119999\n120000\nflood-done$/m);
  // The page still answers input after the flood.
  await page.keyboard.type('echo still-$((40 + 2))\n');
  await expect.poll(() => lesson.terminalText('shell')).toMatch(/^still-42$/m);
});

test('an error frame from the runner is shown readably, on the block it concerns when it names one', async ({ lesson, page }) => {
  const sockets: Array<{ send(message: string): void }> = [];
  await page.routeWebSocket(/\/ws\?/, (socket) => {
    socket.connectToServer();
    sockets.push(socket);
  });
  await lesson.open('01-first-steps');

  sockets[0]!.send(JSON.stringify({ type: 'error', code: 'terminal-busy', message: 'the shell terminal is running another command', ref: '01-first-steps/hello/1' }));
  const block = lesson.block('01-first-steps/hello/1');
  await expect(block).toHaveAttribute('data-state', 'failed');
  await expect(block.locator('.run-block__reason')).toHaveText('the shell terminal is running another command');

  sockets[0]!.send(JSON.stringify({ type: 'error', code: 'spawn-failed', message: 'cannot start bash: no such file' }));
  const notice = page.getByRole('alert');
  await expect(notice).toBeVisible();
  await expect(notice).toContainText('cannot start bash: no such file (spawn-failed)');
  await notice.getByRole('button', { name: 'Dismiss' }).click();
  await expect(notice).toBeHidden();

  sockets[0]!.send('{"type":"no-such-frame"}');
  await expect(notice).toContainText('The runner sent a frame this page does not understand');
});

test('when the shell ends, a key press starts a new one', async ({ lesson, page }) => {
  await lesson.open('01-first-steps');
  await page.locator('.terminal__screen[data-terminal-screen="shell"] .xterm').click();
  await page.keyboard.type('exit 3\n');
  await expect.poll(() => lesson.terminalText('shell')).toContain('[the shell ended with exit code 3; press any key to start a new one]');
  await page.keyboard.press('Enter');
  await expect.poll(() => lesson.terminalText('shell')).not.toContain('[the shell ended');
  await page.keyboard.type('echo new-shell-$((1 + 1))\n');
  await expect.poll(() => lesson.terminalText('shell')).toMatch(/^new-shell-2$/m);
});
