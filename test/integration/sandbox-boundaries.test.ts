// A learner's sandbox is a boundary, tried as a learner would: through the terminal of a running
// runner (the lab target, two learners), every attempt typed into the lab host's shell, which is
// where a learner has the most. Each attempt must be refused, and each test proves the attempt
// really ran (the command's own exit code and message) and looks on the host for what it tried to
// change. Once with the runner as root, once as a throwaway account the test creates (with the
// subordinate ids useradd gives it).

import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CourseManifest, ServerMessage } from '../../runner/protocol.ts';
import type { RunningRunner } from '../../runner/server.ts';
import { newLearner } from '../../scripts/course-check/client.ts';
import { LAB_TEST_TIMEOUT_MS, LAB_WAIT_MS, WAIT_MS } from '../support/deadlines.ts';
import { LAB_BIN, REPO } from './lab-support.ts';
import { TestPage } from './runner-harness.ts';

const MAIN = path.join(REPO, 'runner', 'main.ts');
const LAB_SCRIPT = path.join(REPO, 'lab', 'bin', 'lab');
/** A fork bomb's bound: past the sandbox's process limit (lab/limits.ts, 512), and finite. */
const FORKS = 700;
/** A memory hog's size: past the sandbox's memory limit (768 MiB), and finite. */
const HOG_MIB = 1200;

const manifest: CourseManifest = {
  version: 1,
  lessons: [
    {
      id: 'boundaries',
      title: 'Boundaries',
      order: 1,
      terminals: [{ name: 'host', title: 'lab host' }],
      steps: [
        {
          id: 'boundaries/one',
          title: 'One',
          checks: [],
          blocks: [{ id: 'boundaries/one/1', terminal: 'host', code: 'true\n', interrupt: false, exitCode: 0, source: { file: 'lessons/b.mdx', line: 1 } }],
        },
      ],
    },
  ],
};

type Mode = { name: 'root' | 'unprivileged'; user?: { name: string; uid: number } };
type Shell = { page: TestPage; channel: number };

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Types a command into a learner's terminal; resolves with its exit code and what it printed. */
async function typed(shell: Shell, command: string, waitMs = WAIT_MS): Promise<{ code: number | null; text: string }> {
  const from = shell.page.messages.length;
  const before = shell.page.output(shell.channel).length;
  shell.page.input(shell.channel, `${command}\r`);
  const done = (await shell.page.waitFor((m) => m.type === 'command' && m.command === command, `"${command}" to finish`, from, waitMs)) as Extract<ServerMessage, { type: 'command' }>;
  return { code: done.exitCode, text: shell.page.output(shell.channel).slice(before) };
}

function makeUser(): Mode['user'] | string {
  if (process.getuid?.() !== 0) return 'the suite runs unprivileged: there is no other account to make';
  const name = `labb${process.pid}`.slice(0, 16);
  const made = spawnSync('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', name], { encoding: 'utf8' });
  if (made.status !== 0) return `useradd failed: ${made.stderr.trim()}`;
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const probe = spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--', 'test', '-r', path.join(REPO, 'lab', 'cli.ts')]);
  if (probe.status !== 0) {
    spawnSync('userdel', [name]);
    return `${name} cannot read ${REPO}`;
  }
  return { name, uid };
}

const user = makeUser();
const modes: { mode: Mode; skip?: string }[] = [
  { mode: { name: 'root' }, skip: process.getuid?.() === 0 ? undefined : 'the suite runs unprivileged' },
  { mode: { name: 'unprivileged', ...(typeof user === 'string' ? {} : { user }) }, skip: typeof user === 'string' ? user : undefined },
];
after(() => {
  if (typeof user !== 'string' && user) spawnSync('userdel', [user.name]);
});

for (const { mode, skip } of modes) {
  describe(`a learner's sandbox, runner as ${mode.name}`, { skip, timeout: LAB_TEST_TIMEOUT_MS }, () => {
    const dir = mkdtempSync(path.join(tmpdir(), `boundaries-${mode.name}-`));
    const state = path.join(dir, 'state');
    const labState = path.join(dir, 'labs');
    const prefix = `bd${mode.name[0]}${process.pid}`.slice(0, 16);
    const hostMarker = path.join(tmpdir(), `boundary-marker-${process.pid}-${mode.name}`);
    const checkoutMarker = path.join(REPO, `boundary-marker-${process.pid}-${mode.name}`);
    const labScriptHash = sha256(LAB_SCRIPT);
    let runner: ChildProcess | undefined;
    let stderr = '';
    let startUrl = '';
    let ada: Shell;
    let bob: Shell;
    const pages: TestPage[] = [];

    async function openShell(): Promise<Shell> {
      const auth = await newLearner(startUrl);
      const page = await TestPage.open({ url: new URL(startUrl).origin + '/' } as RunningRunner, auth, { lesson: 'boundaries' });
      pages.push(page);
      const from = page.messages.length;
      page.send({ type: 'open', terminal: 'host', size: { cols: 160, rows: 40 } });
      // The first terminal of a learner waits for their whole lab to come up.
      const opened = await page.waitFor((m) => m.type === 'opened' || m.type === 'error', 'the host terminal', from, LAB_WAIT_MS);
      assert.equal(opened.type, 'opened', JSON.stringify(opened));
      return { page, channel: (opened as Extract<ServerMessage, { type: 'opened' }>).channel };
    }

    before(async () => {
      const site = path.join(dir, 'site');
      mkdirSync(site, { recursive: true });
      writeFileSync(path.join(site, 'index.html'), '<!doctype html><title>Boundaries</title>\n');
      writeFileSync(path.join(site, 'course-manifest.json'), JSON.stringify(manifest));
      mkdirSync(labState);
      const asUser = mode.user ? ['setpriv', `--reuid=${mode.user.uid}`, `--regid=${mode.user.uid}`, '--clear-groups', '--'] : [];
      if (mode.user) for (const owned of [dir, site, labState]) chownSync(owned, mode.user.uid, mode.user.uid);
      const argv = [...asUser, process.execPath, MAIN, '--site', site, '--state', state, '--port', '0', '--target', 'lab', '--lab-prefix', prefix];
      runner = spawn(argv[0]!, argv.slice(1), {
        env: { ...process.env, HOME: dir, LAB_STATE_DIR: labState },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      runner.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      startUrl = await new Promise<string>((resolve, reject) => {
        let stdout = '';
        runner!.stdout!.setEncoding('utf8').on('data', (d: string) => {
          stdout += d;
          const match = /^Course ready: (\S+)$/m.exec(stdout);
          if (match) resolve(match[1]!);
        });
        runner!.once('exit', (code) => reject(new Error(`the runner exited with ${code}:\n${stderr}`)));
      });
      [ada, bob] = await Promise.all([openShell(), openShell()]);
    });

    after(async () => {
      for (const page of pages) await page.close();
      if (runner && runner.exitCode === null) {
        const exited = once(runner, 'exit');
        runner.kill('SIGTERM'); // the runner takes its learners' labs down
        await exited;
      }
      // Belt and braces: a lab the runner could not take down.
      const env = { ...process.env, LAB_STATE_DIR: labState };
      for (const name of execFileSync(LAB_BIN, ['list'], { env, encoding: 'utf8' }).split('\n').filter(Boolean)) {
        execFileSync(LAB_BIN, ['--sandbox', name, 'down'], { env, stdio: 'ignore' });
      }
      rmSync(dir, { recursive: true, force: true });
      if (mode.user) rmSync(path.join(tmpdir(), `dual-tor-lab-${mode.user.uid}`), { recursive: true, force: true }); // its topology cache
      rmSync(hostMarker, { force: true });
      rmSync(checkoutMarker, { force: true });
    });

    test('root inside is a host identity of its own: neither root nor the runner, one per learner', async () => {
      const mine = await typed(ada, 'cat /proc/self/uid_map');
      const theirs = await typed(bob, 'cat /proc/self/uid_map');
      const hostUid = (text: string) => Number(/^\s*0\s+(\d+)\s+1\s*$/m.exec(text)?.[1]);
      assert.ok(hostUid(mine.text) > 0, mine.text);
      assert.notEqual(hostUid(mine.text), mode.user?.uid ?? 0);
      assert.notEqual(hostUid(mine.text), hostUid(theirs.text));
    });

    test('the host\'s secrets and homes are not there', async () => {
      const shadow = await typed(ada, 'cat /etc/shadow');
      assert.notEqual(shadow.code, 0);
      assert.match(shadow.text, /No such file or directory/);
      const home = await typed(ada, 'ls /root /home');
      assert.notEqual(home.code, 0);
      assert.match(home.text, /cannot access '\/root': No such file or directory/);
    });

    test('nothing written inside lands on the host, and the checkout cannot be changed', async () => {
      const tmp = await typed(ada, `echo escaped > ${hostMarker} && cat ${hostMarker}`);
      assert.equal(tmp.code, 0, 'the write succeeds, in the sandbox\'s own /tmp');
      assert.equal(existsSync(hostMarker), false, `${hostMarker} is not on the host`);
      const beside = await typed(ada, `echo escaped > ${checkoutMarker}; ls ${REPO}`);
      assert.doesNotMatch(beside.text, /README\.md/, 'the checkout\'s own files are not there, only what the lab runs');
      assert.equal(existsSync(checkoutMarker), false, `${checkoutMarker} is not on the host`);
      const script = await typed(ada, `echo 'touch /pwned' >> ${LAB_SCRIPT}`);
      assert.notEqual(script.code, 0);
      assert.match(script.text, /Permission denied|Read-only file system/);
      const remounted = await typed(ada, `mount -o remount,rw,bind ${path.dirname(LAB_SCRIPT)}; echo 'touch /pwned' >> ${LAB_SCRIPT}`);
      assert.notEqual(remounted.code, 0, 'even a bind made writable again: the file is not sandbox root\'s');
      assert.match(remounted.text, /Permission denied|Read-only file system/);
      const usr = await typed(ada, 'touch /usr/bin/pwned');
      assert.notEqual(usr.code, 0);
      assert.equal(sha256(LAB_SCRIPT), labScriptHash, 'lab/bin/lab unchanged');
      assert.equal(existsSync('/usr/bin/pwned'), false);
    });

    test('the runner\'s state is out of reach', async () => {
      const db = await typed(ada, `cat ${path.join(state, 'progress.db')} | head -c 16; ls ${state}`);
      assert.notEqual(db.code, 0);
      assert.match(db.text, /No such file or directory/);
      const labs = await typed(ada, `ls ${labState}`);
      assert.notEqual(labs.code, 0);
    });

    test('another learner\'s files and processes are invisible', async () => {
      assert.equal((await typed(bob, 'echo bob-secret > ~/bob-file && echo "$HOME"')).code, 0);
      const theirs = await typed(ada, 'cat /run/lab/devices/host/home/bob-file');
      assert.notEqual(theirs.code, 0);
      assert.match(theirs.text, /No such file or directory/);
      const sandboxOfBob = (await typed(bob, 'cat /run/lab/sandbox')).text.match(new RegExp(`${prefix}-[0-9a-f]+`))?.[0];
      assert.ok(sandboxOfBob, 'bob\'s sandbox name');
      const ps = await typed(ada, 'pgrep -c -f keeper[.]sh');
      assert.match(ps.text, /^1\r?$/m, 'only its own keeper');
      assert.doesNotMatch((await typed(ada, 'ps -eo args')).text, new RegExp(sandboxOfBob!));
    });

    test('the limits cannot be left or raised', async () => {
      const join = await typed(ada, 'echo $$ > /sys/fs/cgroup/pids/cgroup.procs');
      assert.notEqual(join.code, 0);
      const cgroup = await typed(ada, 'cat /proc/self/cgroup');
      assert.doesNotMatch(cgroup.text, new RegExp(`lab-${prefix}`), 'its cgroups are its root: nothing above them shows');
      const mounted = await typed(ada, 'mkdir -p /tmp/cg && mount -t cgroup2 none /tmp/cg && echo $$ > /tmp/cg/cgroup.procs');
      assert.notEqual(mounted.code, 0);
      const raise = await typed(ada, 'prlimit --pid $$ --nproc=unlimited');
      assert.notEqual(raise.code, 0);
      assert.match(raise.text, /Operation not permitted/);
    });

    test('a fork bomb stops at the process limit, and the other learner\'s terminal keeps answering', async () => {
      const bomb = `perl -e 'my @k; for my $i (1..${FORKS}) { my $p = fork; if (!defined $p) { print "refused after $i\\n"; last } if (!$p) { sleep 60; exit } push @k, $p } kill "KILL", @k; print "forked ", scalar(@k), "\\n"'`;
      const [result, other] = await Promise.all([typed(ada, bomb, LAB_WAIT_MS), typed(bob, 'echo alive-$((6*7))', LAB_WAIT_MS)]);
      assert.match(result.text, /refused after \d+/, result.text);
      assert.ok(Number(/refused after (\d+)/.exec(result.text)![1]) < FORKS);
      assert.match(other.text, /alive-42/);
    });

    test('a memory hog is stopped at the memory limit, and the other learner\'s terminal keeps answering', async (t) => {
      // What the runner said at start-up (`lab check`): whether sandboxes get a memory limit here.
      const limited = /^ {2}limits: .* MiB .* per sandbox \(cgroups\)$/m.test(stderr);
      if (!limited) {
        // An unprivileged runner on a machine that delegates no cgroup to it: it said so, once.
        assert.match(stderr, /^ {2}limits: \d+ processes per sandbox only \(RLIMIT_NPROC\); no cgroup for memory and CPU: /m);
        assert.equal(stderr.match(/limits: /g)?.length, 1);
        t.skip('this machine gives the runner\'s user no cgroup (it said so at start-up)');
        return;
      }
      const hog = `perl -e '$x = "x" x (${HOG_MIB} * 1024 * 1024); print "allocated\\n"'`;
      const [result, other] = await Promise.all([typed(ada, hog, LAB_WAIT_MS), typed(bob, 'echo alive-$((7*6))', LAB_WAIT_MS)]);
      assert.notEqual(result.code, 0, result.text);
      assert.doesNotMatch(result.text, /^allocated/m);
      assert.match(other.text, /alive-42/);
      assert.equal((await typed(ada, 'echo still-here')).code, 0, 'the learner\'s shell survives its hog');
    });
  });
}
