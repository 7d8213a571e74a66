// One learner's fork bomb stays in their sandbox: capped at the sandbox's process limit, the
// machine keeps forking, `lab down` still ends it, and its cgroups go with it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { sandboxCgroupDirs } from '../../lab/limits.ts';
import { LAB_BIN, lab, labExec, labOk, poll, teardown, uniqueSandbox } from './lab-support.ts';
import { LAB_WAIT_MS, LAB_TEST_TIMEOUT_MS } from '../support/deadlines.ts';

const PIDS_MAX = 200;
const sandbox = uniqueSandbox('limits');
after(() => teardown(sandbox));

test('a fork bomb in a sandbox hits its process limit; the host and lab down are unaffected', { timeout: LAB_TEST_TIMEOUT_MS }, async () => {
  process.env.LAB_PIDS_MAX = String(PIDS_MAX);
  try {
    await labOk(sandbox, ['up', '--fabric-only']);
    const limit = await labExec(sandbox, 'host', ['bash', '-c', 'ulimit -u; ulimit -Hu']);
    assert.equal(limit.stdout, `${PIDS_MAX}\n${PIDS_MAX}\n`);

    const bomb = spawn(LAB_BIN, ['--sandbox', sandbox, 'exec', 'host', '--', 'bash', '-c', 'bomb() { bomb | bomb & }; bomb; wait'], { stdio: 'ignore', detached: true });
    const count = async () => (await labExec(sandbox, 'host', ['sh', '-c', 'ls -d /proc/[0-9]* | wc -l'])).stdout.trim();
    // The bomb fills the sandbox up to its limit...
    const pidsDir = sandboxCgroupDirs(sandbox).find((d) => d.controller === 'pids' || d.controller === 'unified')?.dir;
    if (pidsDir && existsSync(pidsDir)) {
      const peak = await poll('the bomb to reach the cgroup limit', LAB_WAIT_MS, async () => {
        const events = readFileSync(`${pidsDir}/pids.events`, 'utf8');
        return /max [1-9]/.test(events) ? events : undefined;
      });
      assert.match(peak, /max [1-9]/);
      assert.ok(Number(readFileSync(`${pidsDir}/pids.current`, 'utf8')) <= PIDS_MAX);
    } else {
      await poll('the bomb to fill the sandbox', LAB_WAIT_MS, async () => (Number(await count().catch(() => '0')) >= PIDS_MAX * 0.9 ? true : undefined));
    }
    // ...and not beyond: the host still starts processes.
    const host = await new Promise<number | null>((resolve) => spawn('true').once('exit', resolve));
    assert.equal(host, 0);

    const down = await lab(sandbox, ['down'], LAB_WAIT_MS);
    assert.equal(down.code, 0, down.stdout + down.stderr);
    bomb.kill('SIGKILL');
    for (const { dir } of sandboxCgroupDirs(sandbox)) assert.equal(existsSync(dir), false, `${dir} is left behind`);
  } finally {
    delete process.env.LAB_PIDS_MAX;
  }
});
