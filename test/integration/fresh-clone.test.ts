// The README's first command in a fresh clone: `git clone` of this checkout's HEAD into a temporary
// directory (no node_modules, no .cache, no dist, no state), then `npm start` there, until it
// prints `Course ready:` and serves the home page. npm works offline here: every package comes
// from the npm cache that this checkout's own install filled, so the test sends nothing beyond this
// machine. It proves what a newcomer's clone holds (committed files only: an uncommitted change
// is not in the clone).

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO } from './lab-support.ts';

/**
 * npm ci, the Node fetch where the machine's Node is old, and the site build, from nothing, on a
 * 2-core machine that may have a room's load on it: minutes, not seconds.
 */
const READY_DEADLINE_MS = 15 * 60_000;
const STOP_DEADLINE_MS = 60_000;

/**
 * PATH as the machine has it: without the Node that scripts/with-node.sh put first for this test
 * run, so that a clone on a machine with an older Node fetches its own, as a newcomer's does.
 */
function machinePath(): string {
  const fetched = path.join(REPO, '.cache', 'node');
  return (process.env.PATH ?? '').split(':').filter((dir) => !dir.startsWith(fetched)).join(':');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('a fresh clone', { timeout: READY_DEADLINE_MS + STOP_DEADLINE_MS }, () => {
  const clone = mkdtempSync(path.join(tmpdir(), 'fresh-clone-'));
  after(() => rmSync(clone, { recursive: true, force: true }));

  it('npm start alone sets it up and serves the course', async () => {
    execFileSync('git', ['clone', '--quiet', '--no-hardlinks', REPO, clone], { stdio: 'inherit' });
    const port = await freePort();
    // Its own process group, so that the shell, with-node and the runner all get the SIGTERM.
    const child = spawn('npm', ['start', '--', '--port', String(port), '--state', path.join(clone, '.state')], {
      cwd: clone,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: machinePath(), npm_config_offline: 'true', npm_config_update_notifier: 'false' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "Course ready" within ${READY_DEADLINE_MS / 60_000} min; stderr:\n${stderr}`)), READY_DEADLINE_MS);
        child.stdout.on('data', () => {
          const match = /^Course ready: (http:\/\/127\.0\.0\.1:\d+\/\S*)$/m.exec(stdout);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`npm start exited with ${code} before the course was ready; stderr:\n${stderr}`));
        });
      });
      const home = await fetch(url);
      assert.equal(home.status, 200);
      assert.match(await home.text(), /Dual-TOR/);
      // The set-up said what it did, and npm ran on the Node it fetched, not the machine's older one.
      assert.match(stderr, /No node_modules yet: running npm ci/);
      assert.doesNotMatch(stderr, /npm warn EBADENGINE/i, 'npm ran on a Node the packages accept');
    } finally {
      if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
      const stopped = await Promise.race([exited, new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), STOP_DEADLINE_MS).unref())]);
      if (stopped === 'late' && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }
  });
});
