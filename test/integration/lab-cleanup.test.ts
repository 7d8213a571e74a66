// Nothing of a lab is left on the host after `lab down`, nor after its keeper is SIGKILLed:
// no namespace, veth, mount or process.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { keeperOf, lab, labOk, poll, processesInPidNamespace, stateRoot, teardown, uniqueSandbox } from './lab-support.ts';
import { LAB_WAIT_MS, LAB_TEST_TIMEOUT_MS } from '../support/deadlines.ts';

const DAEMONS = ['bird', 'zebra', 'bgpd', 'bfdd', 'staticd'];

interface HostView {
  netns: string;
  labLinks: string[];
  mounts: string[];
  daemons: string[];
}

/** Every routing daemon running on the machine, as "PID NAME" (read from /proc: pgrep warns about a long pattern). */
function routingDaemons(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let comm: string;
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue; // gone meanwhile
    }
    if (DAEMONS.includes(comm)) found.push(`${pid} ${comm}`);
  }
  return found;
}

/** What the host shows of labs: its netns list, lab-named links, lab mounts, routing daemons. */
function hostView(sandbox: string): HostView {
  const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  const links = (JSON.parse(execFileSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { ifname: string }[]).map((l) => l.ifname);
  const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(`lab-${sandbox}-`));
  return {
    netns,
    labLinks: links.filter((name) => /^(swp\d|enp0s[89]|VLAN10|cali)/.test(name)),
    mounts,
    daemons: routingDaemons(),
  };
}

/** The whole lab, services included: nothing of any of it may stay behind. */
async function upAndRecord(sandbox: string): Promise<{ pidNs: string; pids: number[] }> {
  await labOk(sandbox, ['up']);
  const keeper = keeperOf(sandbox);
  assert.ok(keeper, 'keeper recorded');
  const pidNs = readlinkSync(`/proc/${keeper.pid}/ns/pid`);
  const pids = processesInPidNamespace(pidNs);
  const comms = pids.map((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
  for (const daemon of DAEMONS) assert.ok(comms.includes(daemon), `${daemon} runs in the sandbox (${comms.join(' ')})`);
  return { pidNs, pids };
}

async function assertNothingLeft(sandbox: string, pidNs: string, pids: number[], before: HostView): Promise<void> {
  await poll(`every process of ${sandbox} to exit`, LAB_WAIT_MS, async () => (processesInPidNamespace(pidNs).length === 0 ? true : undefined));
  for (const pid of pids) {
    let gone = true;
    try {
      gone = readlinkSync(`/proc/${pid}/ns/pid`) !== pidNs; // a recycled pid is another process
    } catch {
      gone = true; // no such process
    }
    assert.ok(gone, `process ${pid} of ${sandbox} still runs`);
  }
  const now = hostView(sandbox);
  assert.equal(now.netns, before.netns, 'host netns list changed');
  assert.deepEqual(now.labLinks, before.labLinks, 'lab interfaces on the host');
  assert.deepEqual(now.mounts, [], 'lab mounts visible on the host');
  // Other labs may run on this machine at the same time; none of the daemons left may be ours.
  const ours = now.daemons.filter((line) => pids.includes(Number(line.split(' ')[0])));
  assert.deepEqual(ours, [], 'routing daemons of the sandbox left');
  const listed = await lab(sandbox, ['list']);
  assert.doesNotMatch(listed.stdout, new RegExp(`^${sandbox}$`, 'm'));
  assert.equal(existsSync(`${stateRoot()}/${sandbox}`), false, 'state directory left');
}

describe('lab cleanup', { timeout: LAB_TEST_TIMEOUT_MS }, () => {
  const down = uniqueSandbox('down');
  const killed = uniqueSandbox('killed');
  after(async () => {
    await Promise.allSettled([teardown(down), teardown(killed)]);
  });

  test('after lab down nothing is left on the host', async () => {
    const before = hostView(down);
    const { pidNs, pids } = await upAndRecord(down);
    assert.ok(hostView(down).mounts.length === 0, 'sandbox mounts are private to it');
    const out = await labOk(down, ['down']);
    assert.match(out, new RegExp(`Sandbox ${down} removed`));
    await assertNothingLeft(down, pidNs, pids, before);
  });

  test('after the keeper is SIGKILLed nothing is left on the host', async () => {
    const before = hostView(killed);
    const { pidNs, pids } = await upAndRecord(killed);
    process.kill(keeperOf(killed)!.pid, 'SIGKILL');
    await assertNothingLeft(killed, pidNs, pids, before);
    // The sandbox can be made again under the same name.
    const again = await lab(killed, ['up', '--fabric-only', 'spine1']);
    assert.equal(again.code, 0, again.stderr);
    await labOk(killed, ['down']);
  });
});
