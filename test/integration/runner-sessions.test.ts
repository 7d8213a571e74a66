// Sessions outlive pages: a reconnect gets `opened` and then the screen, including output produced
// while no page was connected; reload and a runner restart keep block and step states; a learner
// gone for the idle time has their shells ended.

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import headless from '@xterm/headless';
import { LESSON, newLearner, pollUntil, startFixture, TestPage, type Fixture } from './runner-harness.ts';

/** Draws bytes in a headless terminal, as the page's xterm would, and returns its lines. */
async function render(data: string, cols = 100, rows = 30): Promise<string[]> {
  const term = new headless.Terminal({ cols, rows, scrollback: 5000, allowProposedApi: true });
  await new Promise<void>((resolve) => term.write(data, resolve));
  const lines: string[] = [];
  const buffer = term.buffer.active;
  for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i)!.translateToString(true));
  term.dispose();
  return lines;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('runner sessions', () => {
  const fixtures: Fixture[] = [];
  const pages: TestPage[] = [];
  after(async () => {
    for (const page of pages) await page.close();
    for (const fixture of fixtures) await fixture.dispose();
  });
  const track = (page: TestPage) => (pages.push(page), page);

  it('restores the screen on reconnect, with the output produced while disconnected', async () => {
    const fixture = await startFixture();
    fixtures.push(fixture);
    const auth = await newLearner(fixture.runner);
    const first = track(await TestPage.open(fixture.runner, auth));
    const channel = await first.openTerminal('main');
    first.input(channel, 'echo before-$((6*7))\r');
    await first.until(() => first.output(channel).includes('before-42'), 'first output');
    // A command that prints only once a file appears, created after the page is gone.
    first.input(channel, 'while [ ! -e go ]; do sleep 0.05; done; for i in 1 2 3; do echo "away-$((i*11))"; done\r');
    const learner = fixture.runner.learners.get(auth.learner)!;
    await first.until(() => learner.terminal('main')?.runningCommand?.startsWith('while ') === true, 'the waiting loop to start');
    await first.close();
    await writeFile(path.join(fixture.stateDir, 'learners', auth.learner, 'go'), '');
    const terminal = learner.terminal('main')!;
    await pollUntil(() => terminal.atPrompt, 'the loop to finish with no page attached');

    const second = track(await TestPage.open(fixture.runner, auth));
    const secondChannel = await second.openTerminal('main');
    const openedAt = second.messages.findIndex((m) => m.type === 'opened');
    await second.until(() => second.output(secondChannel).includes('away-33'), 'the restored screen');
    const firstBinary = second.binaryLog.find((b) => b.channel === secondChannel)!;
    assert.ok(firstBinary.afterMessages > openedAt, 'the screen follows `opened`');
    const lines = await render(second.output(secondChannel));
    for (const text of ['before-42', 'away-11', 'away-22', 'away-33']) {
      assert.ok(lines.some((l) => l === text), `restored screen has the line ${text}:\n${lines.join('\n')}`);
    }
    // The restored terminal is live.
    second.input(secondChannel, 'echo live-$((2+3))\r');
    await second.until(() => second.output(secondChannel).includes('live-5'), 'live output after restore');
  });

  it('keeps block and step states across a reload and a runner restart', async () => {
    const fixture = await startFixture();
    fixtures.push(fixture);
    const auth = await newLearner(fixture.runner);
    const page = track(await TestPage.open(fixture.runner, auth));
    page.send({ type: 'run', block: `${LESSON}/exit/1` });
    page.send({ type: 'run', block: `${LESSON}/exit/2` });
    page.send({ type: 'run', block: `${LESSON}/wrong-exit/1` });
    await page.stepDone(`${LESSON}/exit`);
    await page.stepDone(`${LESSON}/wrong-exit`);
    await page.close();

    const expectStates = (welcome: Awaited<ReturnType<typeof TestPage.open>>['messages'][number]) => {
      assert.equal(welcome.type, 'welcome');
      if (welcome.type !== 'welcome') return;
      const steps = Object.fromEntries(welcome.steps.map((s) => [s.step, s.state]));
      const blocks = Object.fromEntries(welcome.blocks.map((b) => [b.block, [b.state, b.exitCode]]));
      assert.deepEqual(steps, { [`${LESSON}/exit`]: 'passed', [`${LESSON}/wrong-exit`]: 'failed' });
      assert.deepEqual(blocks, {
        [`${LESSON}/exit/1`]: ['passed', 0],
        [`${LESSON}/exit/2`]: ['passed', 3],
        [`${LESSON}/wrong-exit/1`]: ['failed', 1],
      });
      const failed = welcome.blocks.find((b) => b.block === `${LESSON}/wrong-exit/1`)!;
      assert.equal(failed.results[0]?.message, 'exited with 1, expected 0');
    };
    const reloaded = track(await TestPage.open(fixture.runner, auth));
    expectStates(reloaded.messages[0]!);
    await reloaded.close();

    await fixture.restart();
    const restarted = track(await TestPage.open(fixture.runner, { cookie: auth.cookie, token: fixture.runner.token }));
    expectStates(restarted.messages[0]!);
    const progress = await fetch(new URL('/api/progress', fixture.runner.url), { headers: { cookie: auth.cookie } });
    const body = (await progress.json()) as { steps: { step: string; state: string }[] };
    assert.deepEqual(body.steps.map((s) => [s.step, s.state]).sort(), [[`${LESSON}/exit`, 'passed'], [`${LESSON}/wrong-exit`, 'failed']]);

    // reset-lesson forgets them, here and in the store.
    const from = restarted.messages.length;
    restarted.send({ type: 'reset-lesson' });
    await restarted.waitFor((m) => m.type === 'step' && m.status.step === `${LESSON}/exit` && m.status.state === 'idle', 'reset', from);
    assert.deepEqual(fixture.store.steps(auth.learner), []);
  });

  it('ends an idle learner\'s shells once no page has been connected for the idle time', async () => {
    const fixture = await startFixture(undefined, 300);
    fixtures.push(fixture);
    const auth = await newLearner(fixture.runner);
    const page = track(await TestPage.open(fixture.runner, auth));
    const channel = await page.openTerminal('main');
    page.input(channel, 'echo "pid=$$"\r');
    const pid = Number(await page.until(() => /pid=(\d+)/.exec(page.output(channel))?.[1], 'the shell pid'));
    assert.ok(processAlive(pid));
    await page.close();
    await pollUntil(() => !fixture.runner.learners.has(auth.learner) && !processAlive(pid), 'the idle learner to be reaped');
  });
});
