// The dual-TOR fabric in one sandbox: bring-up, BGP, pod-to-pod across racks, ECMP, each failure
// mode keeping pods connected, restore. Polls with deadlines; never sleeps and checks.
// The lab runs --fabric-only: the nodes keep the bootstrap BIRD configuration, which peers with
// both TORs (with BFD), so these tests depend on the fabric alone, not on the cluster emulation.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fabricEstablished, lab, labExec, labOk, poll, podReaches, status, teardown, uniqueSandbox } from './lab-support.ts';
import { LAB_WAIT_MS, LAB_TEST_TIMEOUT_MS } from '../support/deadlines.ts';

/** 4 leaves × 2 uplinks, seen from both ends. */
const FABRIC_SESSIONS = 16;
const RACK1_POD = 'default/busybox-rack1';
const RACK2_POD_IP = '10.10.230.10'; // default/nginx-rack2 on k8s-worker-1
const RACK2_BLOCK = '10.10.230.0/26';

interface Route {
  dst: string;
  gateway?: string;
  nexthops?: { gateway: string; dev: string }[];
}

async function routeOn(sandbox: string, device: string, prefix: string): Promise<Route | undefined> {
  const result = await labExec(sandbox, device, ['ip', '-j', 'route', 'show', prefix]);
  assert.equal(result.code, 0, result.stderr);
  return (JSON.parse(result.stdout) as Route[])[0];
}

function gateways(route: Route | undefined): string[] {
  if (!route) return [];
  return route.nexthops ? route.nexthops.map((n) => n.gateway).sort() : route.gateway ? [route.gateway] : [];
}

/** Pings several times in a row; all must be answered (the path is converged, not flapping). */
async function steadyPing(sandbox: string): Promise<void> {
  const result = await labExec(sandbox, RACK1_POD, ['ping', '-c', '5', '-i', '0.05', '-W', '1', RACK2_POD_IP]);
  assert.equal(result.code, 0, `ping ${RACK2_POD_IP} from ${RACK1_POD}:\n${result.stdout}${result.stderr}`);
  assert.match(result.stdout, /5 packets transmitted, 5 received/);
}

describe('lab fabric', { timeout: LAB_TEST_TIMEOUT_MS }, () => {
  const sandbox = uniqueSandbox('fabric');

  before(async () => {
    await labOk(sandbox, ['up', '--fabric-only']);
  });
  after(async () => {
    await teardown(sandbox);
  });

  test('every leaf-spine BGP session is Established', async () => {
    const s = await fabricEstablished(sandbox, FABRIC_SESSIONS);
    assert.deepEqual(
      s.devices.map((d) => [d.name, d.state]),
      ['spine1', 'spine2', 'leaf10', 'leaf11', 'leaf20', 'leaf21', 'k8s-master', 'k8s-worker-1'].map((n) => [n, 'up']),
    );
    assert.ok(s.links.every((l) => l.a === 'up' && l.b === 'up'), JSON.stringify(s.links));
  });

  test('lab up again is idempotent', async () => {
    const out = await labOk(sandbox, ['up', '--fabric-only']);
    assert.match(out, /leaf10 +was up .*FRR running/);
    assert.match(out, /k8s-master +was up .*BIRD running, 7 pods \(present\)/);
  });

  test('devices have their hostnames; exec passes the exit code through', async () => {
    assert.equal((await labExec(sandbox, 'leaf10', ['hostname'])).stdout.trim(), 'leaf-sw10');
    assert.equal((await labExec(sandbox, 'k8s-master', ['hostname'])).stdout.trim(), 'k8s-master');
    assert.equal((await labExec(sandbox, 'spine1', ['sh', '-c', 'exit 7'])).code, 7);
    const bgp = await labExec(sandbox, 'leaf10', ['vtysh', '-c', 'show bgp summary']);
    assert.match(bgp.stdout, /local AS number 65101/);
    const unknown = await lab(sandbox, ['exec', 'leaf3', '--', 'true']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /Unknown device "leaf3"; devices: host, spine1, spine2, leaf10, leaf11, leaf20, leaf21, k8s-master, k8s-worker-1/);
  });

  test('a pod on k8s-master reaches a pod on k8s-worker-1', async () => {
    await podReaches(sandbox, RACK1_POD, RACK2_POD_IP);
    await steadyPing(sandbox);
  });

  test('nodes have ECMP routes with two next hops, one per TOR', async () => {
    assert.deepEqual(gateways(await routeOn(sandbox, 'k8s-master', '10.50.3.0/24')), ['10.50.1.1', '10.50.2.1']);
    assert.deepEqual(gateways(await routeOn(sandbox, 'k8s-master', '192.168.201.1')), ['10.50.1.1', '10.50.2.1']);
    const block = await poll('an ECMP route to the worker block on k8s-master', LAB_WAIT_MS, async () => {
      const route = await routeOn(sandbox, 'k8s-master', RACK2_BLOCK);
      return gateways(route).length === 2 ? route : undefined;
    });
    assert.deepEqual(gateways(block), ['10.50.1.1', '10.50.2.1']);
    const sysctl = await labExec(sandbox, 'k8s-master', ['cat', '/proc/sys/net/ipv4/fib_multipath_hash_policy', '/proc/sys/net/ipv4/fib_multipath_use_neigh']);
    assert.equal(sysctl.stdout, '1\n1\n');
  });

  test('lab fail leaf10 --mode link keeps pods connected; restore brings the sessions back', async () => {
    await labOk(sandbox, ['fail', 'leaf10', '--mode', 'link']);
    const s = await status(sandbox);
    assert.deepEqual(s.links.filter((l) => l.id.startsWith('leaf10:')).map((l) => l.a), ['down', 'down', 'down']);
    await poll('k8s-master to route the worker block through leaf11 only', LAB_WAIT_MS, async () =>
      gateways(await routeOn(sandbox, 'k8s-master', RACK2_BLOCK)).join() === '10.50.2.1' ? true : undefined,
    );
    await steadyPing(sandbox);
    await labOk(sandbox, ['restore', 'leaf10']);
    await fabricEstablished(sandbox, FABRIC_SESSIONS);
    await poll('both TORs back in k8s-master\'s route', LAB_WAIT_MS, async () => (gateways(await routeOn(sandbox, 'k8s-master', RACK2_BLOCK)).length === 2 ? true : undefined));
  });

  test('lab fail leaf10 --mode silent: links stay up, pods stay connected once BFD notices', async () => {
    await labOk(sandbox, ['fail', 'leaf10', '--mode', 'silent']);
    const s = await status(sandbox);
    assert.equal(s.devices.find((d) => d.name === 'leaf10')?.state, 'failed (silent)');
    assert.ok(s.links.filter((l) => l.id.startsWith('leaf10:')).every((l) => l.a === 'up' && l.b === 'up'), 'links stay up');
    const unanswered = await labExec(sandbox, 'k8s-master', ['ping', '-c', '1', '-W', '1', '10.50.1.1']);
    assert.notEqual(unanswered.code, 0, 'a silent leaf does not answer');
    await poll('k8s-master to drop leaf10 from the worker block route', LAB_WAIT_MS, async () =>
      gateways(await routeOn(sandbox, 'k8s-master', RACK2_BLOCK)).join() === '10.50.2.1' ? true : undefined,
    );
    await steadyPing(sandbox);
    await labOk(sandbox, ['restore']);
    await fabricEstablished(sandbox, FABRIC_SESSIONS, LAB_WAIT_MS);
    await podReaches(sandbox, RACK1_POD, RACK2_POD_IP);
  });

  test('lab fail spine1 --mode stop keeps pods connected; restore starts FRR again', async () => {
    await labOk(sandbox, ['fail', 'spine1', '--mode', 'stop']);
    const s = await status(sandbox);
    assert.deepEqual(s.devices.find((d) => d.name === 'spine1')?.daemons.map((d) => d.running), [false, false, false, false]);
    await steadyPing(sandbox);
    const twice = await lab(sandbox, ['fail', 'spine1', '--mode', 'silent']);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /spine1 has already failed \(mode stop\); run: lab restore spine1/);
    await labOk(sandbox, ['restore', 'spine1']);
    await fabricEstablished(sandbox, FABRIC_SESSIONS);
  });

  test('failing a link by name takes down one end only; bad modes are refused', async () => {
    const bad = await lab(sandbox, ['fail', 'leaf10', '--mode', 'crash']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Unknown mode "crash"; modes: link, stop, silent/);
    await labOk(sandbox, ['fail', 'leaf20:swp1', '--mode', 'link']);
    const s = await status(sandbox);
    assert.deepEqual(s.links.find((l) => l.id === 'leaf20:swp1--spine1:swp3'), { id: 'leaf20:swp1--spine1:swp3', a: 'down', b: 'no-carrier', failed: true });
    await labOk(sandbox, ['restore']);
    await fabricEstablished(sandbox, FABRIC_SESSIONS);
  });
});
