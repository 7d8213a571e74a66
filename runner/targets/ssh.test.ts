// The ssh target's command construction, against a fake `ssh` that records its arguments and runs
// the remote command line through bash here, as sshd runs it through the remote user's shell: the
// quoting is exercised for real. No real remote host is reached (none exists where tests run).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { shellQuote, SshTarget } from './ssh.ts';

const RCFILE = fileURLToPath(new URL('../shell-integration.bash', import.meta.url));

// Options until the host, then "--", then the remote command line (one word), run by bash.
const FAKE_SSH = `#!/bin/bash
printf '%s\\n' "$@" > "$FAKE_SSH_LOG"
while [[ $# -gt 0 && "$1" != -- ]]; do shift; done
shift
exec bash -c "$*"
`;

describe('SshTarget', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ssh-target-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const ssh = path.join(dir, 'ssh');
  writeFileSync(ssh, FAKE_SSH);
  chmodSync(ssh, 0o755);
  const log = path.join(dir, 'args.log');
  process.env.FAKE_SSH_LOG = log;
  const target = new SshTarget({ host: 'k8s-master', terminalHosts: { leaf10: 'leaf-sw10' }, configFile: '/tmp/lab.ssh-config', ssh });
  after(() => target.dispose());

  it('runs a hidden command as `ssh -T -F CONFIG -o BatchMode=yes HOST -- bash -c CMD`, quoting intact', async () => {
    const result = await target.exec('l1', 'k8s-master', `echo "it's $((6 * 7))"; exit 3`, 5000);
    assert.deepEqual(result, { exitCode: 3, output: "it's 42\n", timedOut: false });
    const args = readFileSync(log, 'utf8').trimEnd().split('\n');
    assert.deepEqual(args.slice(0, 4), ['-T', '-F', '/tmp/lab.ssh-config', '-o']);
    assert.ok(args.includes('BatchMode=yes'));
    assert.deepEqual(args.slice(-3), ['k8s-master', '--', `bash -c 'echo "it'\\''s $((6 * 7))"; exit 3'`]);
  });

  it('picks a terminal\'s own host when it has one', async () => {
    await target.exec('l1', 'leaf10', 'true', 5000);
    assert.equal(readFileSync(log, 'utf8').trimEnd().split('\n').at(-3), 'leaf-sw10');
    assert.equal(target.hostOf('k8s-worker-1'), 'k8s-master');
  });

  it('times out a hidden command and ends it', async () => {
    const result = await target.exec('l1', 'k8s-master', 'sleep 30', 300);
    assert.equal(result.timedOut, true);
    assert.equal(result.exitCode, null);
  });

  it('starts a shell with `ssh -tt HOST -- env … bash` that loads the integration sent inline', async () => {
    const shell = await target.shell('l1', 'leaf10', { rcfile: RCFILE, env: { RUNNER_SI_NONCE: 'nonce123' } });
    assert.ok(shell.ok);
    assert.equal(shell.spec.file, ssh);
    assert.deepEqual(shell.spec.args.slice(0, 3), ['-tt', '-F', '/tmp/lab.ssh-config']);
    const remote = shell.spec.args.at(-1)!;
    assert.deepEqual(shell.spec.args.slice(-3, -1), ['leaf-sw10', '--']);
    assert.match(remote, /^env RUNNER_SI_NONCE='nonce123' RUNNER_SI_DEFAULT_PS1='1' TERM='xterm-256color' bash -c /);
    // Run it (through the fake, without a terminal): the integration's marks carry the nonce.
    const child = spawn(shell.spec.file, shell.spec.args, { env: shell.spec.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stdin.end('echo "marker $((2 + 3))"\nexit\n');
    await new Promise((resolve) => child.on('close', resolve));
    assert.match(output, /marker 5/);
    assert.match(output, /\x1b\]133;A;n=nonce123;d=0\x07/);
  });

  it('refuses a host that ssh would take for an option', () => {
    assert.throws(() => new SshTarget({ host: '-oProxyCommand=evil' }), /not starting with "-"/);
    assert.throws(() => new SshTarget({ host: 'ok', terminalHosts: { a: 'bad host' } }), /ssh host must be/);
  });

  it('quotes single quotes for a POSIX shell', () => {
    assert.equal(shellQuote(`a'b`), `'a'\\''b'`);
  });
});
