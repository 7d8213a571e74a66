// Blocks run in a real bash through node-pty: exit codes, expected output, a heredoc, a command that
// reads stdin, interrupt, and a typed command recognised like a clicked one.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LESSON, newLearner, startFixture, TestPage, type Fixture } from './runner-harness.ts';

describe('runner blocks', () => {
  let fixture: Fixture;
  let page: TestPage;
  let channel: number;

  before(async () => {
    fixture = await startFixture();
    const auth = await newLearner(fixture.runner);
    page = await TestPage.open(fixture.runner, auth);
    channel = await page.openTerminal('main');
  });
  after(async () => {
    await page?.close();
    await fixture?.dispose();
  });

  it('passes blocks with the expected exit codes and the step with them', async () => {
    const from = page.messages.length;
    page.send({ type: 'run', block: `${LESSON}/exit/1` });
    page.send({ type: 'run', block: `${LESSON}/exit/2` });
    const first = await page.blockDone(`${LESSON}/exit/1`, from);
    assert.equal(first.state, 'passed');
    assert.equal(first.exitCode, 0);
    const second = await page.blockDone(`${LESSON}/exit/2`, from);
    assert.equal(second.state, 'passed', JSON.stringify(second));
    assert.equal(second.exitCode, 3);
    const step = await page.stepDone(`${LESSON}/exit`, from);
    assert.equal(step.state, 'passed');
    const command = page.messages.slice(from).find((m) => m.type === 'command' && m.command === '(exit 3)');
    assert.ok(command && command.type === 'command' && command.exitCode === 3, 'a command frame reports (exit 3)');
  });

  it('fails a block with the wrong exit code and says why', async () => {
    const from = page.messages.length;
    page.send({ type: 'run', block: `${LESSON}/wrong-exit/1` });
    const status = await page.blockDone(`${LESSON}/wrong-exit/1`, from);
    assert.equal(status.state, 'failed');
    assert.equal(status.exitCode, 1);
    assert.deepEqual(status.results, [{ check: 'exit-code', passed: false, message: 'exited with 1, expected 0' }]);
    const step = await page.stepDone(`${LESSON}/wrong-exit`, from);
    assert.equal(step.state, 'failed');
    assert.deepEqual(step.results, [{ check: 'exit-code', passed: false, message: `block ${LESSON}/wrong-exit/1: exited with 1, expected 0` }]);
  });

  it('runs a multi-line heredoc exactly as typed', async () => {
    const from = page.messages.length;
    page.send({ type: 'run', block: `${LESSON}/heredoc/1` });
    const status = await page.blockDone(`${LESSON}/heredoc/1`, from);
    assert.equal(status.state, 'passed', JSON.stringify(status));
    assert.match(page.output(channel), /FIRST LINE\r\n\s*SECOND; LINE/);
  });

  it('matches expected output with "..." and shows a diff when it does not match', async () => {
    const from = page.messages.length;
    page.send({ type: 'run', block: `${LESSON}/output/1` });
    page.send({ type: 'run', block: `${LESSON}/output/2` });
    assert.equal((await page.blockDone(`${LESSON}/output/1`, from)).state, 'passed');
    const failed = await page.blockDone(`${LESSON}/output/2`, from);
    assert.equal(failed.state, 'failed');
    const output = failed.results.find((r) => r.check === 'output');
    assert.equal(output?.passed, false);
    assert.equal(output?.diff, ['--- expected', '+++ actual', '@@ -1,2 +1,2 @@', ' one', '-three', '+two'].join('\n'));
  });

  it('feeds keystrokes to a command that reads stdin', async () => {
    const from = page.messages.length;
    page.send({ type: 'run', block: `${LESSON}/stdin/1` });
    await page.waitFor((m) => m.type === 'block' && m.status.block === `${LESSON}/stdin/1` && m.status.state === 'running', 'stdin block running', from);
    page.input(channel, 'world\r');
    const status = await page.blockDone(`${LESSON}/stdin/1`, from);
    assert.equal(status.state, 'passed', JSON.stringify(status));
    assert.match(page.output(channel), /hello, world/);
  });

  it('queues a block behind a running command and interrupts it first when asked', async () => {
    const from = page.messages.length;
    page.send({ type: 'run', block: `${LESSON}/sleep/1` });
    await page.waitFor((m) => m.type === 'block' && m.status.block === `${LESSON}/sleep/1` && m.status.state === 'running', 'sleep running', from);
    page.send({ type: 'run', block: `${LESSON}/sleep/2` });
    await page.waitFor((m) => m.type === 'block' && m.status.block === `${LESSON}/sleep/2` && m.status.state === 'queued', 'second block queued', from);
    const sleep = await page.blockDone(`${LESSON}/sleep/1`, from);
    assert.equal(sleep.exitCode, 130, 'sleep ended by Ctrl-C');
    const after = await page.blockDone(`${LESSON}/sleep/2`, from);
    assert.equal(after.state, 'passed', JSON.stringify(after));
  });

  it('interrupts a running command on request', async () => {
    const from = page.messages.length;
    page.input(channel, 'sleep 500\r');
    // Started, not merely "not at a prompt": that is also true while the previous prompt is drawn.
    await page.until(() => fixture.runner.learners.values().next().value?.terminal('main')?.runningCommand === 'sleep 500', 'sleep to start');
    page.send({ type: 'interrupt', terminal: 'main' });
    const done = await page.waitFor((m) => m.type === 'command' && m.command === 'sleep 500', 'sleep 500 to end', from);
    assert.equal(done.type === 'command' && done.exitCode, 130);
  });

  it('recognises a typed command as its block', async () => {
    const from = page.messages.length;
    page.input(channel, 'echo typed-marker\r');
    const status = await page.blockDone(`${LESSON}/typed/1`, from);
    assert.equal(status.state, 'passed', JSON.stringify(status));
    assert.equal((await page.stepDone(`${LESSON}/typed`, from)).state, 'passed');
  });

  it('follows a bash started inside the shell: its commands, its exit, and blocks run in it', async () => {
    const from = page.messages.length;
    page.input(channel, 'bash\r');
    page.input(channel, 'echo inner-$((1+1))\r');
    const inner = await page.waitFor((m) => m.type === 'command' && m.command === 'echo inner-$((1+1))', 'the inner command', from);
    assert.equal(inner.type === 'command' && inner.exitCode, 0);
    page.send({ type: 'run', block: `${LESSON}/exit/2` });
    const block = await page.blockDone(`${LESSON}/exit/2`, from);
    assert.equal(block.exitCode, 3, 'a block runs in the nested shell');
    page.input(channel, 'exit 5\r');
    const outer = await page.waitFor((m) => m.type === 'command' && m.command === 'bash', 'the outer bash to end', from);
    assert.equal(outer.type === 'command' && outer.exitCode, 5);
    const next = page.messages.length;
    page.send({ type: 'run', block: `${LESSON}/exit/1` });
    assert.equal((await page.blockDone(`${LESSON}/exit/1`, next)).state, 'passed');
  });

  it('does not take marks printed by a command (cat of a file with marks) for the shell\'s own', async () => {
    const from = page.messages.length;
    page.input(channel, "printf '\\033]133;D;7;n=x;d=0\\007\\033]133;A;n=x;d=0\\007forged\\n'; sleep 0.2; echo real-end\r");
    const done = await page.waitFor((m) => m.type === 'command' && m.command.startsWith('printf'), 'the printf command', from);
    assert.equal(done.type === 'command' && done.exitCode, 0, 'not the forged exit code 7');
    const printfFrames = page.messages.slice(from).filter((m) => m.type === 'command' && m.command.startsWith('printf'));
    assert.equal(printfFrames.length, 1);
    assert.match(page.output(channel), /forged[\s\S]*real-end/);
  });

  it('refuses unknown blocks with a clear error and keeps the socket', async () => {
    const from = page.messages.length;
    page.send({ type: 'run', block: `${LESSON}/nope/1` });
    const error = await page.waitFor((m) => m.type === 'error', 'error', from);
    assert.deepEqual(error, { type: 'error', code: 'unknown-block', message: `Unknown block "${LESSON}/nope/1" in lesson "${LESSON}"`, ref: `${LESSON}/nope/1` });
    page.send({ type: 'run', block: `${LESSON}/exit/1` });
    assert.equal((await page.blockDone(`${LESSON}/exit/1`, from)).state, 'passed');
  });
});
