// State checks: a hidden command polled until it passes or its time is up. Each fails before its
// step's block runs and passes after; one passes only because it is polled, not checked once.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pollStateCheck } from '../../runner/checks.ts';
import { LocalShellTarget } from '../../runner/targets/local-shell.ts';
import { fixtureManifest, LESSON, newLearner, startFixture, TestPage, type Fixture } from './runner-harness.ts';

describe('runner state checks', () => {
  let fixture: Fixture;
  let target: LocalShellTarget;
  let page: TestPage;
  let learner: string;

  before(async () => {
    fixture = await startFixture();
    target = new LocalShellTarget({ stateDir: fixture.stateDir });
    const auth = await newLearner(fixture.runner);
    learner = auth.learner;
    page = await TestPage.open(fixture.runner, auth);
  });
  after(async () => {
    await page?.close();
    await target?.dispose();
    await fixture?.dispose();
  });

  it('fails before the step\'s block runs and passes after', async () => {
    const step = fixtureManifest().lessons[0]!.steps.find((s) => s.id === `${LESSON}/state`)!;
    // The step's own check, with a shorter timeout so that failing does not take its full 3 s.
    const check = { ...step.checks[0]!, timeoutMs: 300 };
    const before = await pollStateCheck(target, learner, check, 0, new AbortController().signal);
    assert.equal(before.passed, false);
    assert.match(before.message, /^flag-file exists: `test -f flag-file` exited with 1 after \d+ attempts over 300 ms$/);
    assert.ok(Number(/after (\d+) attempts/.exec(before.message)![1]) > 1, 'retried, not checked once');

    const from = page.messages.length;
    page.send({ type: 'run', block: `${LESSON}/state/1` });
    const status = await page.stepDone(`${LESSON}/state`, from);
    assert.deepEqual(status.results, [{ check: 0, passed: true, message: 'flag-file exists' }]);
    assert.equal(status.state, 'passed');
    const running = page.messages.slice(from).findIndex((m) => m.type === 'step' && m.status.state === 'running');
    assert.ok(running >= 0, 'the step shows running while its checks poll');
  });

  it('passes a check that only becomes true a while after its block finished', async () => {
    const from = page.messages.length;
    page.send({ type: 'run', block: `${LESSON}/poll/1` });
    const block = await page.blockDone(`${LESSON}/poll/1`, from);
    assert.equal(block.state, 'passed');
    const step = await page.stepDone(`${LESSON}/poll`, from);
    assert.equal(step.state, 'passed', JSON.stringify(step));
  });

  it('stops a check when aborted', async () => {
    const controller = new AbortController();
    const pending = pollStateCheck(
      target,
      learner,
      { command: 'false', terminal: 'main', timeoutMs: 60_000, intervalMs: 50, description: 'never', source: { file: 'x.mdx', line: 1 } },
      2,
      controller.signal,
    );
    controller.abort();
    const result = await pending;
    assert.equal(result.passed, false);
    assert.match(result.message, /\(check stopped\)/);
  });
});
