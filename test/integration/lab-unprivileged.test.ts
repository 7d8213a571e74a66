// The lab works for a user without privileges (where unprivileged user namespaces are allowed):
// run here as uid/gid 65534 when the suite runs as root; the other lab tests cover a user who is
// already unprivileged.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { LAB_BIN, REPO } from './lab-support.ts';
import { LAB_WAIT_MS, LAB_TEST_TIMEOUT_MS } from '../support/deadlines.ts';

const UNPRIVILEGED = 65534;
const root = process.getuid?.() === 0;
const home = root ? mkdtempSync(join(tmpdir(), 'lab-unprivileged-')) : '';
if (root) chownSync(home, UNPRIVILEGED, UNPRIVILEGED);
const stateDir = join(home, 'state');
const env = { HOME: home, LAB_STATE_DIR: stateDir, PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' };
const asUser = ['setpriv', `--reuid=${UNPRIVILEGED}`, `--regid=${UNPRIVILEGED}`, '--clear-groups', '--'];

/** Why the test cannot run here, or undefined. */
function skipReason(): string | undefined {
  if (!root) return 'the suite already runs unprivileged';
  const probe = spawnSync(asUser[0]!, [...asUser.slice(1), 'sh', '-c', `test -r "${REPO}/lab/cli.ts" && test -x "${REPO}/lab/bin/lab"`], { env });
  if (probe.status !== 0) return `uid ${UNPRIVILEGED} cannot read ${REPO}`;
  return undefined;
}

function labAsUser(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(asUser[0]!, [...asUser.slice(1), LAB_BIN, '--sandbox', 'unprivileged', ...args], { env, timeout: LAB_WAIT_MS }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('lab as an unprivileged user', { skip: skipReason(), timeout: LAB_TEST_TIMEOUT_MS }, () => {
  after(async () => {
    await labAsUser(['down']);
    rmSync(home, { recursive: true, force: true });
    rmSync(join(tmpdir(), `dual-tor-lab-${UNPRIVILEGED}`), { recursive: true, force: true }); // its topology cache
  });

  test('brings part of the fabric up, runs commands in it, and removes it', async () => {
    const up = await labAsUser(['up', '--fabric-only', 'spine1', 'leaf10', '--wait']);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /fabric: 2\/2 leaf-spine BGP sessions Established/);
    const keeper = JSON.parse(readFileSync(join(stateDir, 'unprivileged', 'keeper.json'), 'utf8')) as { pid: number };
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${keeper.pid}/status`, 'utf8'))?.[1];
    assert.equal(uid, String(UNPRIVILEGED), 'the sandbox runs as the unprivileged user on the host');
    const hostname = await labAsUser(['exec', 'leaf10', '--', 'hostname']);
    assert.equal(hostname.stdout.trim(), 'leaf-sw10');
    const bgp = await labAsUser(['exec', 'spine1', '--', 'vtysh', '-c', 'show bgp summary']);
    assert.match(bgp.stdout, /local AS number 65001/);
    const down = await labAsUser(['down']);
    assert.equal(down.code, 0, down.stderr);
    assert.equal(existsSync(`/proc/${keeper.pid}`), false, 'keeper gone');
    assert.equal(existsSync(join(stateDir, 'unprivileged')), false, 'state removed');
  });
});
