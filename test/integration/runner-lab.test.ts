// The runner with the lab target: terminals are shells on lab devices of the learner's own sandbox,
// blocks and state checks run there, and the sandbox is taken down with the runner.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { pollStateCheck } from '../../runner/checks.ts';
import type { CourseManifest } from '../../runner/protocol.ts';
import { LAB_CLI, LabTarget } from '../../runner/targets/lab.ts';
import { newLearner, startFixture, TestPage, type Fixture } from './runner-harness.ts';
import { LAB_WAIT_MS } from '../support/deadlines.ts';

/** Unique per test process, so that parallel runs never share sandboxes. */
const PREFIX = `rt${process.pid}`.slice(0, 16);
/** In the device's own home, which only that device of that sandbox sees. */
const FLAG = '~/runner-flag';

const check = {
  command: `test -f ${FLAG}`,
  terminal: 'k8s-master',
  timeoutMs: 3000,
  intervalMs: 100,
  description: `${FLAG} exists on k8s-master`,
  source: { file: 'lessons/lab.mdx', line: 30 },
};

const manifest: CourseManifest = {
  version: 1,
  lessons: [
    {
      id: 'lab',
      title: 'Lab',
      order: 1,
      terminals: [
        { name: 'k8s-master', title: 'k8s-master' },
        { name: 'leaf10', title: 'leaf10' },
      ],
      steps: [
        {
          id: 'lab/hosts',
          title: 'Hosts',
          checks: [],
          blocks: [
            { id: 'lab/hosts/1', terminal: 'k8s-master', code: 'hostname\n', interrupt: false, expect: 'k8s-master', exitCode: 0, source: { file: 'lessons/lab.mdx', line: 10 } },
            { id: 'lab/hosts/2', terminal: 'leaf10', code: "vtysh -c 'show running-config' | grep -c '^router bgp'\n", interrupt: false, expect: '1', exitCode: 0, source: { file: 'lessons/lab.mdx', line: 14 } },
          ],
        },
        {
          id: 'lab/flag',
          title: 'Flag',
          checks: [check],
          blocks: [{ id: 'lab/flag/1', terminal: 'k8s-master', code: `touch ${FLAG}\n`, interrupt: false, exitCode: 0, source: { file: 'lessons/lab.mdx', line: 20 } }],
        },
      ],
    },
    {
      // A lesson that fails a switch, then stops before its restore: what a catch-up must not leave behind.
      id: 'failing',
      title: 'Failing',
      order: 2,
      terminals: [{ name: 'host', title: 'host' }],
      steps: [
        {
          id: 'failing/fail',
          title: 'Fail leaf10',
          checks: [],
          blocks: [{ id: 'failing/fail/1', terminal: 'host', code: 'lab fail leaf10 --mode link\n', interrupt: false, exitCode: 0, source: { file: 'lessons/failing.mdx', line: 5 } }],
        },
        {
          id: 'failing/broken',
          title: 'Broken',
          checks: [],
          blocks: [{ id: 'failing/broken/1', terminal: 'host', code: 'false\n', interrupt: false, exitCode: 0, source: { file: 'lessons/failing.mdx', line: 9 } }],
        },
      ],
    },
    { id: 'after', title: 'After', order: 3, terminals: [{ name: 'host', title: 'host' }], steps: [] },
  ],
};

function sandboxes(): string[] {
  return execFileSync(LAB_CLI, ['list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

describe('runner with the lab target', () => {
  let fixture: Fixture | undefined;
  let page: TestPage | undefined;
  let sandbox = '';
  before(async () => {
    fixture = await startFixture(manifest, undefined, () => new LabTarget({ prefix: PREFIX }));
  });
  after(async () => {
    await page?.close();
    await fixture?.dispose();
    // Belt and braces: a sandbox left by a failure above is taken down here.
    if (sandbox && sandboxes().includes(sandbox)) execFileSync(LAB_CLI, ['--sandbox', sandbox, 'down'], { stdio: 'ignore' });
  });

  it('runs blocks on lab devices, polls state checks there, and takes the sandbox down at the end', async () => {
    const auth = await newLearner(fixture!.runner);
    const target = new LabTarget({ prefix: PREFIX });
    sandbox = target.sandbox(auth.learner);
    page = await TestPage.open(fixture!.runner, auth, { lesson: 'lab' });
    const from = page.messages.length;
    page.send({ type: 'open', terminal: 'k8s-master', size: { cols: 100, rows: 30 } });
    page.send({ type: 'run', block: 'lab/hosts/1' });
    page.send({ type: 'run', block: 'lab/hosts/2' });
    // The blocks wait for the learner's lab to come up; the terminal does not wait for convergence.
    const hosts = await page.stepDone('lab/hosts', from, LAB_WAIT_MS);
    const blocks = page.messages.filter((m) => m.type === 'block' && (m.status.state === 'passed' || m.status.state === 'failed'));
    assert.equal(hosts.state, 'passed', JSON.stringify(blocks));
    assert.ok(sandboxes().includes(sandbox), `sandbox ${sandbox} is up`);

    // The start was told as it went: the lab's phases in order, each done, then ready; the
    // terminal opened once the devices existed, before the fabric had converged.
    const startup = page.messages.slice(from).filter((m) => m.type === 'startup');
    assert.equal(startup[0]?.state, 'starting');
    const ready = startup.at(-1)!;
    assert.equal(ready.state, 'ready');
    assert.deepEqual(ready.phases.map((phase) => [phase.phase, phase.state]), [
      ['sandbox', 'done'], ['devices', 'done'], ['services', 'done'], ['fabric', 'done'], ['nodes', 'done'],
    ]);
    assert.ok(startup.some((m) => m.phases.some((phase) => phase.phase === 'fabric' && phase.state === 'running')), 'the fabric was shown converging');
    const opened = page.messages.findIndex((m, i) => i >= from && m.type === 'opened' && m.terminal === 'k8s-master');
    assert.ok(opened >= 0 && opened < page.messages.indexOf(ready), 'the terminal opened before the lab was ready');
    const queued = page.messages.slice(from).find((m) => m.type === 'block' && m.status.block === 'lab/hosts/1');
    assert.equal(queued?.type === 'block' && queued.status.state, 'queued', 'the block waited, queued, for the start');

    const before = await pollStateCheck(target, auth.learner, { ...check, timeoutMs: 500 }, 0, new AbortController().signal);
    assert.equal(before.passed, false, 'the check fails before its block ran');
    const next = page.messages.length;
    page.send({ type: 'run', block: 'lab/flag/1' });
    const flag = await page.stepDone('lab/flag', next);
    assert.equal(flag.state, 'passed', JSON.stringify(flag));


    // A catch-up that stops between a `lab fail` and its restore ends the failure it made.
    await page.close();
    page = await TestPage.open(fixture!.runner, auth, { lesson: 'after' });
    const caughtFrom = page.messages.length;
    page.send({ type: 'catch-up' });
    const caught = await page.waitFor((m) => m.type === 'catch-up' && m.state !== 'running', 'the catch-up to end', caughtFrom, LAB_WAIT_MS);
    assert.ok(caught.type === 'catch-up' && caught.state === 'failed' && caught.block === 'failing/broken/1', JSON.stringify(caught));
    assert.match(caught.message, /It ended the failures it had made \(lab restore\): leaf10: .* up\.$/);
    const failures = await target.exec(auth.learner, 'host', 'lab restore', LAB_WAIT_MS);
    assert.equal(failures.output.trim(), 'Nothing has failed');

    await page.close();
    page = undefined;
    await fixture!.dispose();
    fixture = undefined;
    assert.ok(!sandboxes().includes(sandbox), `sandbox ${sandbox} is gone after the runner stopped`);
  });
});
