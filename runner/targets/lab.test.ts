// The lab target against a fake `lab` CLI that records its calls: what it asks the lab to do, and
// what it makes of the answers. The real lab is exercised by the lab's own tests.

import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { StartupProgress } from '../protocol.ts';
import { LabTarget } from './lab.ts';

const FAKE_LAB = `#!/bin/bash
# Records each call, then behaves like the lab CLI for the calls the target makes.
printf '%s\\n' "$*" >> "$FAKE_LAB_LOG"
[[ "$1" == --sandbox ]] || { echo "no --sandbox" >&2; exit 2; }
shift 2
case "$1" in
  up)
    echo '{"plan":[{"phase":"sandbox","label":"Sandbox"},{"phase":"devices","label":"Devices"},{"phase":"fabric","label":"BGP fabric"}]}'
    echo '{"phase":"sandbox","state":"done","seconds":0.2}'
    echo '{"phase":"devices","state":"running"}'
    [[ -n "$FAKE_LAB_UP_FAILS" ]] && { echo '{"log":"making the sandbox"}'; echo "lab: sandbox: unshare: Operation not permitted" >&2; exit 1; }
    echo '{"phase":"devices","state":"done","seconds":1.5}'
    echo '{"phase":"fabric","state":"running","detail":"3 of 16 sessions Established"}'
    # The fabric converges once the test says so (it checks what happens meanwhile).
    while [[ -n "$FAKE_LAB_RELEASE" && ! -e "$FAKE_LAB_RELEASE" ]]; do sleep 0.05; done
    echo '{"phase":"fabric","state":"done","seconds":4}'
    exit 0 ;;
  down) exit 0 ;;
  exec) shift 2; [[ "$1" == -- ]] && shift; exec "$@" ;;
  *) echo "unexpected $1" >&2; exit 2 ;;
esac
`;

describe('LabTarget', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lab-target-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const cli = path.join(dir, 'lab');
  writeFileSync(cli, FAKE_LAB);
  chmodSync(cli, 0o755);
  const log = path.join(dir, 'calls.log');
  const calls = () => readFileSync(log, 'utf8').trim().split('\n');
  const learner = '0123456789abcdef0123456789abcdef';

  it('brings the sandbox up once, then starts shells on the device named by the terminal', async () => {
    writeFileSync(log, '');
    const target = new LabTarget({ cli, env: { FAKE_LAB_LOG: log } });
    const integration = { rcfile: '/path/to/shell-integration.bash', env: { RUNNER_SI_NONCE: 'abcdef0123456789' } };
    const [a, b] = await Promise.all([target.shell(learner, 'leaf10', integration), target.shell(learner, 'k8s-master', integration)]);
    assert.ok(a.ok && b.ok);
    if (!a.ok || !b.ok) return;
    assert.equal(a.spec.file, cli);
    assert.deepEqual(a.spec.args, ['--sandbox', 'course-0123456789abcdef', 'shell', 'leaf10']);
    assert.deepEqual(b.spec.args, ['--sandbox', 'course-0123456789abcdef', 'shell', 'k8s-master']);
    assert.equal(a.spec.env.LAB_SHELL_INIT, integration.rcfile);
    assert.equal(a.spec.env.RUNNER_SI_NONCE, 'abcdef0123456789');
    assert.equal(a.spec.env.RUNNER_SI_DEFAULT_PS1, undefined, 'the lab keeps its own prompt');
    assert.deepEqual(calls(), ['--sandbox course-0123456789abcdef up --wait --progress --timeout 1800']);
    await target.disposeLearner(learner);
    assert.deepEqual(calls().at(-1), '--sandbox course-0123456789abcdef down');
    await target.disposeLearner(learner);
    assert.equal(calls().filter((c) => c.endsWith(' down')).length, 1, 'idempotent');
    await target.dispose();
  });

  it('runs hidden commands on the device with their exit code and output, and stops them at the timeout', async () => {
    writeFileSync(log, '');
    const target = new LabTarget({ cli, env: { FAKE_LAB_LOG: log } });
    const ok = await target.exec(learner, 'k8s-master', 'echo "ready on $0"; exit 3', 5000);
    assert.deepEqual(ok, { exitCode: 3, output: 'ready on bash\n', timedOut: false });
    assert.equal(calls().at(-1), "--sandbox course-0123456789abcdef exec k8s-master -- bash -c echo \"ready on $0\"; exit 3");
    const slow = await target.exec(learner, 'k8s-master', 'sleep 30', 200);
    assert.equal(slow.timedOut, true);
    assert.equal(slow.exitCode, null);
    await target.dispose();
  });

  it('opens shells once the devices exist, runs blocks once the start is over, and reports each phase', async () => {
    writeFileSync(log, '');
    const release = path.join(dir, 'converged');
    rmSync(release, { force: true });
    const target = new LabTarget({ cli, env: { FAKE_LAB_LOG: log, FAKE_LAB_RELEASE: release } });
    const seen: StartupProgress[] = [];
    let fabricRunning!: () => void;
    const converging = new Promise<void>((resolve) => (fabricRunning = resolve));
    const watch = target.watchStartup(learner, (progress) => {
      seen.push(progress);
      if (progress.phases.some((phase) => phase.phase === 'fabric' && phase.state === 'running')) fabricRunning();
    });
    const shell = await target.shell(learner, 'host', { rcfile: '/x', env: {} });
    assert.ok(shell.ok, 'the shell opens while the fabric converges');
    let ready = false;
    const whenReady = target.whenReady(learner).then((outcome) => ((ready = true), outcome));
    await converging;
    assert.equal(ready, false, 'blocks wait for the fabric (the fake waits for the release file)');
    assert.deepEqual(seen.at(-1), {
      state: 'starting',
      phases: [
        { phase: 'sandbox', label: 'Sandbox', state: 'done', seconds: 0.2 },
        { phase: 'devices', label: 'Devices', state: 'done', seconds: 1.5 },
        { phase: 'fabric', label: 'BGP fabric', state: 'running', detail: '3 of 16 sessions Established' },
      ],
    });
    writeFileSync(release, '');
    assert.deepEqual(await whenReady, { ok: true });
    assert.equal(seen.at(-1)?.state, 'ready');
    assert.deepEqual(seen.at(-1)?.phases.map((phase) => phase.state), ['done', 'done', 'done']);
    watch.dispose();
    await target.dispose();
  });

  it('turns a failing lab up into a failed start that says why, tried again only when a terminal opens or the learner retries', async () => {
    writeFileSync(log, '');
    const target = new LabTarget({ cli, env: { FAKE_LAB_LOG: log, FAKE_LAB_UP_FAILS: '1' } });
    const seen: StartupProgress[] = [];
    target.watchStartup(learner, (progress) => seen.push(progress));
    const result = await target.shell(learner, 'host', { rcfile: '/x', env: {} });
    assert.deepEqual(result, { ok: false, message: 'The lab did not start: sandbox: unshare: Operation not permitted' });
    const failed = seen.at(-1);
    assert.equal(failed?.state, 'failed');
    assert.equal(failed?.message, 'The lab did not start: sandbox: unshare: Operation not permitted');
    assert.equal(failed?.detail, 'making the sandbox\nlab: sandbox: unshare: Operation not permitted');
    assert.deepEqual(failed?.phases.map((phase) => phase.state), ['done', 'failed', 'pending'], 'the phase that was running is the one that failed');
    assert.deepEqual(await target.whenReady(learner), result, 'a check or block after a failed start says why');
    assert.equal(calls().filter((c) => c.includes(' up --wait')).length, 1, '...and does not start the lab again (no restart loop)');
    await target.shell(learner, 'host', { rcfile: '/x', env: {} });
    assert.equal(calls().filter((c) => c.includes(' up --wait')).length, 2, 'opening a terminal again (a reload) starts it again');
    target.retryStartup(learner);
    await target.whenReady(learner);
    assert.equal(calls().filter((c) => c.includes(' up --wait')).length, 3, 'so does the page\'s Retry');
    assert.equal(seen.filter((progress) => progress.state === 'starting').length >= 3, true, 'each retry is reported as a new start');
    // A failed `up` may still have created the sandbox: disposing takes it down all the same.
    await target.dispose();
    assert.equal(calls().at(-1), '--sandbox course-0123456789abcdef down');
  });
});
