// Step verification and catch-up through the protocol, on the local target: `verify-step` says
// which checks fail before their step and which pass too early; `catch-up` runs every earlier
// block in order through the ordinary block queue and stops at the first failure.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CourseManifest, ServerMessage } from '../../runner/protocol.ts';
import { newLearner, startFixture, TestPage, type Fixture } from './runner-harness.ts';

type CatchUp = Extract<ServerMessage, { type: 'catch-up' }>;
type Verified = Extract<ServerMessage, { type: 'verified' }>;

function manifest(): CourseManifest {
  const source = { file: 'lessons/x.mdx', line: 1 };
  const block = (id: string, code: string, extra: Record<string, unknown> = {}) => ({ id, terminal: 'main', code, interrupt: false, source, ...extra });
  const check = (command: string) => ({ command, terminal: 'main', timeoutMs: 2000, intervalMs: 50, description: `${command} passes`, source });
  return {
    version: 1,
    lessons: [
      // Listed out of order on purpose: catch-up follows `order`.
      {
        id: 'third', title: 'Third', order: 3, terminals: [{ name: 'main', title: 'Main' }],
        steps: [
          { id: 'third/a', title: 'A', checks: [], blocks: [block('third/a/1', 'echo third-a >> trail\n', { exitCode: 0 })] },
          { id: 'third/b', title: 'B', checks: [], blocks: [block('third/b/1', 'echo third-b >> trail\n', { exitCode: 0 })] },
        ],
      },
      {
        id: 'first', title: 'First', order: 1, terminals: [{ name: 'main', title: 'Main' }, { name: 'side', title: 'Side' }],
        steps: [
          { id: 'first/make', title: 'Make', checks: [check('test -f made')], blocks: [
            block('first/make/1', 'echo first-make >> trail; touch made\n', { exitCode: 0 }),
          ] },
          { id: 'first/side', title: 'Side', checks: [], blocks: [
            block('first/side/1', 'echo first-side >> trail; echo side-ok\n', { terminal: 'side', expect: 'side-ok' }),
          ] },
          // A long-running block interrupted by the next block in its terminal.
          { id: 'first/probe', title: 'Probe', checks: [], blocks: [block('first/probe/1', 'echo first-probe >> trail; sleep 600\n')] },
          { id: 'first/stop', title: 'Stop', checks: [check('grep -q first-stop trail')], blocks: [
            block('first/stop/1', 'echo first-stop >> trail\n', { interrupt: true, exitCode: 0 }),
          ] },
        ],
      },
      {
        id: 'second', title: 'Second', order: 2, terminals: [{ name: 'main', title: 'Main' }],
        steps: [
          { id: 'second/echo', title: 'Echo', checks: [], blocks: [block('second/echo/1', 'echo second-echo >> trail; echo fine\n', { expect: 'fine' })] },
          { id: 'second/always', title: 'Always', checks: [check('true'), check('grep -q second-always trail')], blocks: [block('second/always/1', 'echo second-always >> trail\n')] },
          { id: 'second/empty', title: 'Empty', checks: [], blocks: [block('second/empty/1', 'true\n', { expect: '...' })] },
          { id: 'second/exit-only', title: 'Exit only', checks: [], blocks: [block('second/exit-only/1', 'true\n', { exitCode: 0 })] },
        ],
      },
      {
        id: 'broken', title: 'Broken', order: 4, terminals: [{ name: 'main', title: 'Main' }],
        steps: [
          { id: 'broken/ok', title: 'Ok', checks: [], blocks: [block('broken/ok/1', 'echo broken-ok >> trail\n', { exitCode: 0 })] },
          { id: 'broken/bad', title: 'Bad', checks: [], blocks: [
            block('broken/bad/1', 'echo broken-bad >> trail; echo nope\n', { expect: 'yes' }),
            block('broken/bad/2', 'echo never >> trail\n'),
          ] },
          { id: 'broken/after', title: 'After', checks: [], blocks: [block('broken/after/1', 'echo never >> trail\n')] },
        ],
      },
      { id: 'last', title: 'Last', order: 5, terminals: [{ name: 'main', title: 'Main' }], steps: [] },
    ],
  };
}

describe('runner step verification', () => {
  let fixture: Fixture;
  let page: TestPage;

  before(async () => {
    fixture = await startFixture(manifest());
    page = await TestPage.open(fixture.runner, await newLearner(fixture.runner), { lesson: 'second' });
  });
  after(async () => {
    await page?.close();
    await fixture?.dispose();
  });

  const verify = async (step: string): Promise<Verified> => {
    const from = page.messages.length;
    page.send({ type: 'verify-step', step });
    return (await page.waitFor((m) => m.type === 'verified' && m.step === step, `verified ${step}`, from)) as Verified;
  };

  it('says an expected output that does not match nothing fails before its step', async () => {
    const result = await verify('second/echo');
    assert.equal(result.ok, true);
    assert.deepEqual(result.checks.map((c) => [c.check, c.block, c.verdict]), [['output', 'second/echo/1', 'fails-before']]);
  });

  it('reports a state check that already passes, and keeps the one that fails', async () => {
    const started = performance.now();
    const result = await verify('second/always');
    assert.equal(result.ok, false);
    assert.deepEqual(result.checks.map((c) => [c.check, c.verdict]), [[0, 'passes-too-early'], [1, 'fails-before']]);
    assert.match(result.checks[0]!.message, /^state check 0 \(lessons\/x\.mdx:1: `true`\) already exits 0 before the step's blocks ran/);
    // The failing one is polled for the verification window, not checked once.
    assert.match(result.checks[1]!.message, /after \d+ attempts over 1000 ms/);
    assert.ok(performance.now() - started >= 900, 'polled for about a second');
  });

  it('reports an expected output that matches an empty output', async () => {
    const result = await verify('second/empty');
    assert.equal(result.ok, false);
    assert.equal(result.checks[0]!.verdict, 'passes-too-early');
    assert.match(result.checks[0]!.message, /block second\/empty\/1 \(lessons\/x\.mdx:1\) matches an empty output/);
  });

  it('says an exit-code-only step proves nothing by output, without failing', async () => {
    const result = await verify('second/exit-only');
    assert.equal(result.ok, true);
    assert.deepEqual(result.checks.map((c) => [c.check, c.verdict]), [['exit-code', 'proves-nothing']]);
  });

  it('runs nothing: the blocks of a verified step stay idle', async () => {
    await verify('second/echo');
    assert.equal(page.messages.some((m) => m.type === 'block' || m.type === 'step'), false);
  });

  it('refuses a step of another lesson, naming the lesson\'s steps', async () => {
    const from = page.messages.length;
    page.send({ type: 'verify-step', step: 'first/make' });
    const error = await page.waitFor((m) => m.type === 'error', 'error', from);
    assert.equal(error.type === 'error' && error.code, 'unknown-step');
    assert.match(error.type === 'error' ? error.message : '', /^Unknown step "first\/make" in lesson "second"; its steps: second\/echo, /);
  });
});

describe('runner catch-up', () => {
  let fixture: Fixture;

  before(async () => {
    fixture = await startFixture(manifest());
  });
  after(async () => {
    await fixture?.dispose();
  });

  const catchUp = async (lesson: string, step?: string) => {
    const auth = await newLearner(fixture.runner);
    const page = await TestPage.open(fixture.runner, auth, { lesson });
    const channel = await page.openTerminal('main');
    const from = page.messages.length;
    page.send(step ? { type: 'catch-up', step } : { type: 'catch-up' });
    const final = (await page.waitFor((m) => m.type === 'catch-up' && m.state !== 'running', 'catch-up to end', from)) as CatchUp;
    const frames = page.messages.slice(from).filter((m): m is CatchUp => m.type === 'catch-up');
    const trail = await readFile(path.join(fixture.stateDir, 'learners', auth.learner, 'trail'), 'utf8').catch(() => '');
    return { page, auth, final, frames, trail, channel };
  };

  it('runs every earlier step in course order, across terminals, and leaves them passed', async () => {
    const { page, auth, final, frames, trail, channel } = await catchUp('third');
    assert.equal(final.state, 'passed', JSON.stringify(final));
    assert.equal(final.done, 8);
    assert.equal(final.total, 8);
    assert.equal(final.message, 'Caught up: ran 8 blocks of 8 earlier steps.');
    assert.deepEqual(trail.trim().split('\n'), ['first-make', 'first-side', 'first-probe', 'first-stop', 'second-echo', 'second-always']);
    assert.deepEqual(
      frames.filter((f) => f.state === 'running').map((f) => f.block),
      ['first/make/1', 'first/side/1', 'first/probe/1', 'first/stop/1', 'second/echo/1', 'second/always/1', 'second/empty/1', 'second/exit-only/1'],
    );
    // Typed into the terminal the page shows, as a click on Run would be.
    assert.match(page.output(channel), /echo first-make >> trail; touch made/);
    const steps = fixture.store.steps(auth.learner);
    assert.deepEqual(
      steps.filter((s) => s.step.startsWith('first/')).map((s) => [s.step, s.state]).sort(),
      [['first/make', 'passed'], ['first/probe', 'passed'], ['first/side', 'passed'], ['first/stop', 'passed']],
    );
    await page.close();
  });

  it('catches up to a step: the earlier lessons, then this lesson\'s earlier steps', async () => {
    const { page, final, trail } = await catchUp('second', 'second/always');
    assert.equal(final.state, 'passed', JSON.stringify(final));
    assert.equal(final.step, 'second/always');
    assert.deepEqual(trail.trim().split('\n'), ['first-make', 'first-side', 'first-probe', 'first-stop', 'second-echo']);
    await page.close();
  });

  it('stops at the first block that fails, naming it, with the diff', async () => {
    const { page, final, trail } = await catchUp('last');
    assert.equal(final.state, 'failed');
    assert.equal(final.block, 'broken/bad/1');
    assert.equal(final.message, 'Catch-up stopped: step "Bad": block broken/bad/1 (lessons/x.mdx:1) failed.');
    assert.match(final.results[0]?.diff ?? '', /-yes\n\+nope/);
    assert.equal(trail.includes('never'), false, 'nothing after the failed block ran');
    await page.close();
  });

  it('has nothing to do for the first lesson, and refuses an unknown step', async () => {
    const { page, final } = await catchUp('first');
    assert.equal(final.state, 'passed');
    assert.equal(final.message, 'Nothing to catch up: no step comes before this one.');
    const from = page.messages.length;
    page.send({ type: 'catch-up', step: 'first/nope' });
    const error = await page.waitFor((m) => m.type === 'error', 'error', from);
    assert.equal(error.type === 'error' && error.code, 'unknown-step');
    await page.close();
  });

  it('runs one catch-up at a time per learner', async () => {
    const auth = await newLearner(fixture.runner);
    const page = await TestPage.open(fixture.runner, auth, { lesson: 'third' });
    const from = page.messages.length;
    page.send({ type: 'catch-up' });
    page.send({ type: 'catch-up' });
    const error = await page.waitFor((m) => m.type === 'error', 'a refusal', from);
    assert.equal(error.type === 'error' && error.code, 'catch-up-busy');
    const final = (await page.waitFor((m) => m.type === 'catch-up' && m.state !== 'running', 'catch-up to end', from)) as CatchUp;
    assert.equal(final.state, 'passed');
    await page.close();
  });
});
