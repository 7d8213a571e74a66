// The runner as `npm start` runs it (node runner/main.ts as a child process): its one stdout line,
// static files, cookies, the session endpoint's cross-site refusal, the WebSocket's token, Origin
// and cookie checks, a clean exit on SIGTERM, and clear startup errors.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ADMIT_PATH, LEARNER_COOKIE, PROGRESS_PATH, SESSION_PATH, progressResponseSchema, sessionResponseSchema } from '../../runner/protocol.ts';
import { newLearner } from '../../scripts/course-check/client.ts';
import type { RunningRunner } from '../../runner/server.ts';
import { fixtureManifest, TestPage, WAIT_MS } from './runner-harness.ts';

const MAIN = path.resolve(import.meta.dirname, '../../runner/main.ts');

type Started = { child: ChildProcess; url: string; startUrl: string; stderr: () => string };

async function startMain(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (stderr += d));
  const startUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "Course ready" line in ${WAIT_MS} ms; stderr:\n${stderr}`)), WAIT_MS);
    child.stdout!.on('data', (d: string) => {
      stdout += d;
      const match = /^Course ready: (http:\/\/127\.0\.0\.1:\d+\/#start=[\w-]{20,})\n/m.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`runner exited with ${code} before it was ready; stderr:\n${stderr}`));
    });
  });
  return { child, url: startUrl.replace(/#.*$/, ''), startUrl, stderr: () => stderr };
}

/** Raw GET, so that the test controls every header (fetch adds Sec-Fetch-* and refuses some). */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return send('GET', url, headers);
}

function send(method: string, url: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('runner over HTTP', () => {
  let dir: string;
  let started: Started;
  let runnerLike: RunningRunner;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'runner-http-'));
    const site = path.join(dir, 'site');
    await mkdir(path.join(site, 'lessons', 'basics'), { recursive: true });
    await writeFile(path.join(site, 'index.html'), '<!doctype html><title>Home</title>\n');
    await writeFile(path.join(site, 'lessons', 'basics', 'index.html'), '<!doctype html><title>Basics</title>\n');
    await writeFile(path.join(site, '404.html'), '<!doctype html><title>Lost</title>\n');
    await writeFile(path.join(site, 'app.js'), 'console.log(1)\n');
    await writeFile(path.join(dir, 'secret.txt'), 'do not serve\n');
    await writeFile(path.join(site, 'course-manifest.json'), JSON.stringify(fixtureManifest()));
    started = await startMain(['--site', site, '--state', path.join(dir, 'state'), '--port', '0']);
    runnerLike = { url: started.url } as RunningRunner;
  });
  after(async () => {
    if (started && started.child.exitCode === null && started.child.signalCode === null) {
      started.child.kill('SIGKILL');
      await once(started.child, 'exit');
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves the site with content types, index.html for directories and the 404 page', async () => {
    const home = await get(started.url);
    assert.equal(home.status, 200);
    assert.equal(home.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(home.body, /<title>Home/);
    const lesson = await get(new URL('lessons/basics', started.url).href);
    assert.match(lesson.body, /<title>Basics/);
    const js = await get(new URL('app.js', started.url).href);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    const missing = await get(new URL('nope', started.url).href);
    assert.equal(missing.status, 404);
    assert.match(missing.body, /<title>Lost/);
  });

  it('never serves a file outside the site', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/%2e%2e%2f%2e%2e%2fsecret.txt', '/a/../../secret.txt', '/%00', '/%zz']) {
      const res = await get(started.url.replace(/\/$/, '') + p);
      assert.notEqual(res.status, 200, p);
      assert.doesNotMatch(res.body, /do not serve/, p);
    }
  });

  it('sets an HttpOnly SameSite=Strict learner cookie when there is none, and keeps a valid one', async () => {
    const first = await get(started.url);
    const cookie = String(first.headers['set-cookie']);
    assert.match(cookie, new RegExp(`^${LEARNER_COOKIE}=[0-9a-f]{32}; Path=/; HttpOnly; SameSite=Strict$`));
    const value = cookie.split(';')[0]!;
    const again = await get(started.url, { cookie: value });
    assert.equal(again.headers['set-cookie'], undefined);
    const forged = await get(started.url, { cookie: `${LEARNER_COOKIE}=../../etc` });
    assert.match(String(forged.headers['set-cookie']), /^learner=[0-9a-f]{32};/);
  });

  it('admits a browser only with the start key it printed, and only from its own pages', async () => {
    const fresh = String((await get(started.url)).headers['set-cookie']).split(';')[0]!;
    const post = (headers: Record<string, string>, body: string) => send('POST', new URL(ADMIT_PATH, started.url).href, { cookie: fresh, 'content-type': 'application/json', ...headers }, body);
    const session = () => get(new URL(SESSION_PATH, started.url).href, { cookie: fresh, 'sec-fetch-site': 'same-origin' });
    const refusal = await session();
    assert.equal(refusal.status, 403, 'a learner cookie alone, which any local account gets, is no session');
    assert.match(refusal.body, /has not been admitted: open the course with the URL that npm start printed/);
    assert.doesNotMatch(refusal.body, /token/);
    assert.equal((await post({ 'sec-fetch-site': 'same-origin' }, JSON.stringify({ key: 'guessed-key-guessed-key' }))).status, 403, 'a wrong key');
    assert.equal((await post({ 'sec-fetch-site': 'same-origin' }, '{"key": 42}')).status, 400, 'a malformed body');
    assert.equal((await post({ 'sec-fetch-site': 'same-origin' }, 'x'.repeat(5000))).status, 400, 'an oversized body');
    assert.equal((await get(new URL(ADMIT_PATH, started.url).href, { cookie: fresh })).status, 405);
    const key = new URL(started.startUrl).hash.replace('#start=', '');
    assert.equal((await post({ 'sec-fetch-site': 'cross-site', origin: 'http://evil.example' }, JSON.stringify({ key }))).status, 403, 'the right key from another site');
    assert.equal((await session()).status, 403);
    assert.equal((await post({ 'sec-fetch-site': 'same-origin' }, JSON.stringify({ key }))).status, 200);
    assert.equal((await session()).status, 200, 'admitted for good');
  });

  it('gives the session token to same-origin requests only', async () => {
    const { cookie } = await newLearner(started.startUrl);
    const same = await get(new URL(SESSION_PATH, started.url).href, { cookie, 'sec-fetch-site': 'same-origin', origin: started.url.replace(/\/$/, '') });
    assert.equal(same.status, 200);
    const session = sessionResponseSchema.parse(JSON.parse(same.body));
    assert.ok(session.token.length >= 16);
    assert.equal(same.headers['cache-control'], 'no-store');
    assert.equal((await get(new URL(SESSION_PATH, started.url).href, { 'sec-fetch-site': 'cross-site' })).status, 403);
    assert.equal((await get(new URL(SESSION_PATH, started.url).href, { origin: 'http://evil.example' })).status, 403);
    assert.equal((await get(new URL(SESSION_PATH, started.url).href, { 'sec-fetch-site': 'same-site' })).status, 403);
  });

  it('serves only the hosts it is reached by (no DNS rebinding)', async () => {
    const port = new URL(started.url).port;
    const rebound = await get(new URL(SESSION_PATH, started.url).href, { host: `evil.example:${port}`, 'sec-fetch-site': 'same-origin' });
    assert.equal(rebound.status, 421);
    assert.doesNotMatch(rebound.body, /token/);
    assert.equal((await get(started.url, { host: `localhost:${port}` })).status, 200);
  });

  it('reports progress for the cookie\'s learner', async () => {
    const res = await get(new URL(PROGRESS_PATH, started.url).href);
    assert.equal(res.status, 200);
    assert.deepEqual(progressResponseSchema.parse(JSON.parse(res.body)), { steps: [] });
  });

  it('refuses a WebSocket without the token, from another Origin, without a learner cookie, or not admitted', async () => {
    const { cookie, token } = await newLearner(started.startUrl);
    const refused = async (options: Parameters<typeof TestPage.connect>[1], why: string) => {
      await assert.rejects(TestPage.connect(runnerLike, options), /upgrade refused with HTTP 403/, why);
    };
    await refused({ cookie }, 'no token');
    await refused({ cookie, token: `${token}x` }, 'wrong token');
    await refused({ cookie, token: token.slice(0, -1) }, 'token prefix');
    await refused({ cookie, token, origin: 'http://evil.example' }, 'foreign origin');
    await refused({ cookie, token, origin: started.url.replace('127.0.0.1', '127.0.0.2').replace(/\/$/, '') }, 'other host');
    await refused({ token }, 'no cookie');
    const unadmitted = String((await get(started.url)).headers['set-cookie']).split(';')[0]!;
    await refused({ cookie: unadmitted, token }, 'a cookie that was never admitted');
    const page = await TestPage.connect(runnerLike, { cookie, token });
    await page.close();
    const localhost = await TestPage.connect(runnerLike, { cookie, token, origin: started.url.replace('127.0.0.1', 'localhost').replace(/\/$/, '') });
    await localhost.close();
  });

  it('ends every shell and exits 0 on SIGTERM', async () => {
    const { cookie, token } = await newLearner(started.startUrl);
    const page = await TestPage.open(runnerLike, { cookie, token });
    const channel = await page.openTerminal('main');
    page.input(channel, 'echo "pid=$$"\r');
    const pid = Number(await page.until(() => /pid=(\d+)/.exec(page.output(channel))?.[1], 'the shell pid'));
    assert.ok(processAlive(pid));
    started.child.kill('SIGTERM');
    const [code, signal] = (await once(started.child, 'exit')) as [number | null, string | null];
    assert.equal(signal, null);
    assert.equal(code, 0, started.stderr());
    assert.equal(processAlive(pid), false, 'the shell is gone');
    await page.close();
  });
});

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('runner startup options and errors', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'runner-start-'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function failingRun(args: string[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, stderr, stdout };
  }

  it('names the manifest and the problem when the manifest is invalid', async () => {
    const site = path.join(dir, 'bad-site');
    await mkdir(site, { recursive: true });
    const manifest = fixtureManifest();
    manifest.lessons[0]!.steps[0]!.blocks[0]!.terminal = 'nowhere';
    manifest.lessons[0]!.steps[1]!.blocks[0]!.expect = 'x ([ (re)';
    await writeFile(path.join(site, 'course-manifest.json'), JSON.stringify(manifest));
    const result = await failingRun(['--site', site, '--state', path.join(dir, 'state'), '--port', '0']);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, new RegExp(`The course manifest ${site.replace(/[/.]/g, '\\$&')}/course-manifest.json is invalid`));
    assert.match(result.stderr, /lessons\/basics\.mdx:11: unknown terminal "nowhere"; this lesson opens: main, side/);
    assert.match(result.stderr, /lessons\/basics\.mdx:11: expected output, line 1: invalid regular expression "x \(\[" in a "\(re\)" line/);
  });

  it('refuses a corrupt progress database with its path', async () => {
    const site = path.join(dir, 'site');
    const state = path.join(dir, 'corrupt-state');
    await mkdir(site, { recursive: true });
    await mkdir(state, { recursive: true });
    await writeFile(path.join(site, 'course-manifest.json'), JSON.stringify(fixtureManifest()));
    await writeFile(path.join(state, 'progress.db'), 'this is not a database, it is a sentence that is long enough '.repeat(100));
    const result = await failingRun(['--site', site, '--state', state, '--port', '0']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`The progress database ${state.replace(/[/.]/g, '\\$&')}/progress\\.db is unusable: file is not a database`));
  });

  it('admits an extra origin given with --allow-origin, and serves its host', async () => {
    const site = path.join(dir, 'site');
    await mkdir(site, { recursive: true });
    await writeFile(path.join(site, 'course-manifest.json'), JSON.stringify(fixtureManifest()));
    const proxied = await startMain(['--site', site, '--state', path.join(dir, 'proxy-state'), '--port', '0', '--allow-origin', 'https://course.example:8443/some/path']);
    try {
      const port = new URL(proxied.url).port;
      const key = new URL(proxied.startUrl).hash.replace('#start=', '');
      const proxy = { host: 'course.example:8443', origin: 'https://course.example:8443' };
      const admitted = await send('POST', new URL(ADMIT_PATH, proxied.url).href, { ...proxy, 'content-type': 'application/json' }, JSON.stringify({ key }));
      assert.equal(admitted.status, 200);
      const cookie = String(admitted.headers['set-cookie']).split(';')[0]!;
      const viaProxy = await get(new URL(SESSION_PATH, proxied.url).href, { ...proxy, cookie });
      assert.equal(viaProxy.status, 200);
      const { token } = sessionResponseSchema.parse(JSON.parse(viaProxy.body));
      const page = await TestPage.connect({ url: proxied.url } as RunningRunner, { cookie, token, origin: 'https://course.example:8443' });
      await page.close();
      await assert.rejects(
        TestPage.connect({ url: proxied.url } as RunningRunner, { cookie, token, origin: 'https://course.example:9999' }),
        /HTTP 403/,
      );
      assert.equal((await get(proxied.url, { host: `elsewhere.example:${port}` })).status, 421);
    } finally {
      proxied.child.kill('SIGTERM');
      await once(proxied.child, 'exit');
    }
  });

  it('explains a bad option', async () => {
    const result = await failingRun(['--port', 'eighty']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--port must be 0 to 65535, got "eighty"/);
    assert.match(result.stderr, /usage: node runner\/main\.ts/);
  });
});
