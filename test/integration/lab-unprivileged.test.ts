// The lab for a user without privileges: a throwaway account the test creates (when the suite runs
// as root), with the subordinate ids Debian's useradd gives it. Its sandbox's root is one of those
// ids on the host, neither root nor the account itself; the fabric runs; everything goes at the end,
// the account included.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { subordinateRange } from '../../lab/sandbox-identity.ts';
import { LAB_BIN, REPO } from './lab-support.ts';
import { LAB_WAIT_MS, LAB_TEST_TIMEOUT_MS } from '../support/deadlines.ts';

const root = process.getuid?.() === 0;
const USER = `labt${process.pid}`.slice(0, 16);

/** Creates the account (with subordinate ids), or says why the test cannot run here. */
function createUser(): { uid: number; home: string } | string {
  if (!root) return 'the suite already runs unprivileged';
  const made = spawnSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', USER], { encoding: 'utf8' });
  if (made.status !== 0) return `useradd failed: ${made.stderr.trim()}`;
  const uid = Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim());
  const home = mkdtempSync(join(tmpdir(), 'lab-unprivileged-'));
  chownSync(home, uid, uid);
  const probe = spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--', 'sh', '-c', `test -r "${REPO}/lab/cli.ts" && test -x "${REPO}/lab/bin/lab"`]);
  if (probe.status !== 0) return `${USER} cannot read ${REPO}`;
  return { uid, home };
}

const account = createUser();
const skip = typeof account === 'string' ? account : undefined;
const { uid, home } = typeof account === 'string' ? { uid: -1, home: '' } : account;
const stateDir = join(home, 'state');
const env = { HOME: home, LAB_STATE_DIR: stateDir, PATH: `${process.env.PATH}` };
const asUser = ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--'];

function labAsUser(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(asUser[0]!, [...asUser.slice(1), LAB_BIN, '--sandbox', 'unprivileged', ...args], { env, timeout: LAB_WAIT_MS }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('lab as an unprivileged user', { skip, timeout: LAB_TEST_TIMEOUT_MS }, () => {
  after(async () => {
    await labAsUser(['down']);
    rmSync(home, { recursive: true, force: true });
    rmSync(join(tmpdir(), `dual-tor-lab-${uid}`), { recursive: true, force: true }); // its topology cache
    spawnSync('userdel', [USER]);
  });

  test('its sandbox runs as a subordinate id of its own, brings part of the fabric up, and goes', async () => {
    const up = await labAsUser(['up', '--fabric-only', 'spine1', 'leaf10', '--wait']);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /fabric: 2\/2 leaf-spine BGP sessions Established/);
    assert.doesNotMatch(up.stderr, /runs as your own user/);
    const keeper = JSON.parse(readFileSync(join(stateDir, 'unprivileged', 'keeper.json'), 'utf8')) as { pid: number };
    const hostUid = Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${keeper.pid}/status`, 'utf8'))?.[1]);
    const range = subordinateRange(readFileSync('/etc/subuid', 'utf8'), USER, uid)!;
    assert.ok(hostUid >= range.start && hostUid < range.start + range.count, `keeper uid ${hostUid} is in ${USER}'s range ${range.start}+${range.count}`);
    assert.notEqual(hostUid, uid);
    const inside = await labAsUser(['exec', 'leaf10', '--', 'sh', '-c', 'hostname; id -u; cat /proc/self/uid_map']);
    assert.match(inside.stdout, new RegExp(`^leaf-sw10\\n0\\n\\s+0\\s+${hostUid}\\s+1\\n$`));
    const bgp = await labAsUser(['exec', 'spine1', '--', 'vtysh', '-c', 'show bgp summary']);
    assert.match(bgp.stdout, /local AS number 65001/);
    const down = await labAsUser(['down']);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(existsSync(`/proc/${keeper.pid}`), false, 'keeper gone');
    assert.equal(existsSync(join(stateDir, 'unprivileged')), false, 'state removed');
  });
});
