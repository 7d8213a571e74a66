// Two sandboxes at once: neither sees the other's devices, namespaces or processes, and neither
// has any link to the host's network.
import assert from 'node:assert/strict';
import { readlinkSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { keeperOf, labExec, labOk, teardown, uniqueSandbox } from './lab-support.ts';
import { LAB_TEST_TIMEOUT_MS } from '../support/deadlines.ts';

describe('two lab sandboxes', { timeout: LAB_TEST_TIMEOUT_MS }, () => {
  const a = uniqueSandbox('iso-a');
  const b = uniqueSandbox('iso-b');

  before(async () => {
    // Different parts of the fabric in each, so what each sees is telling.
    await Promise.all([labOk(a, ['up', '--fabric-only', 'spine1', 'leaf10']), labOk(b, ['up', '--fabric-only', 'spine2', 'leaf21', 'k8s-worker-1'])]);
  });
  after(async () => {
    await Promise.allSettled([teardown(a), teardown(b)]);
  });

  test('each has its own namespaces', () => {
    const ka = keeperOf(a)!;
    const kb = keeperOf(b)!;
    for (const ns of ['pid', 'net', 'mnt', 'user', 'uts']) {
      const nsA = readlinkSync(`/proc/${ka.pid}/ns/${ns}`);
      const nsB = readlinkSync(`/proc/${kb.pid}/ns/${ns}`);
      assert.notEqual(nsA, nsB, `${ns} namespace shared`);
      assert.notEqual(nsA, readlinkSync(`/proc/self/ns/${ns}`), `${ns} namespace is the host's`);
    }
  });

  test('each lists only its own devices', async () => {
    const listA = (await labExec(a, 'host', ['ip', 'netns', 'list'])).stdout;
    const listB = (await labExec(b, 'host', ['ip', 'netns', 'list'])).stdout;
    const names = (text: string) => text.split('\n').map((l) => l.split(' ')[0]).filter(Boolean).sort();
    assert.deepEqual(names(listA), ['leaf10', 'spine1']);
    assert.deepEqual(names(listB), ['default.busybox-rack2', 'default.nginx-rack2', 'k8s-worker-1', 'leaf21', 'spine2']);
  });

  test('each sees only its own processes', async () => {
    const procs = async (sandbox: string) =>
      (await labExec(sandbox, 'host', ['ps', '-eo', 'comm='])).stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    const psA = await procs(a);
    const psB = await procs(b);
    assert.equal(psA.filter((c) => c === 'bgpd').length, 2, psA.join(' '));
    assert.equal(psA.filter((c) => c === 'bird').length, 0, psA.join(' '));
    assert.equal(psB.filter((c) => c === 'bgpd').length, 2, psB.join(' '));
    assert.equal(psB.filter((c) => c === 'bird').length, 1, psB.join(' '));
    const pid1 = (await labExec(a, 'host', ['cat', '/proc/1/cmdline'])).stdout.replaceAll('\0', ' ');
    assert.match(pid1, new RegExp(`keeper\\.sh ${a} `), 'PID 1 of a sandbox is its own keeper');
  });

  test('a change in one is invisible in the other', async () => {
    await labOk(a, ['fail', 'leaf10', '--mode', 'link']);
    const inB = await labExec(b, 'host', ['cat', '/run/lab/failures.json']);
    assert.notEqual(inB.code, 0, `sandbox ${b} sees ${a}'s failures: ${inB.stdout}`);
    assert.equal((await labExec(b, 'host', ['cat', '/run/lab/sandbox'])).stdout.trim(), b);
  });

  test('no sandbox has a link to the host network', async () => {
    const links = JSON.parse((await labExec(a, 'host', ['ip', '-j', 'link', 'show'])).stdout) as { ifname: string }[];
    assert.deepEqual(links.map((l) => l.ifname), ['lo']);
    const routes = JSON.parse((await labExec(a, 'leaf10', ['ip', '-j', 'route', 'show', 'default'])).stdout) as unknown[];
    assert.deepEqual(routes, []);
  });
});
