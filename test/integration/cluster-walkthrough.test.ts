// The walkthrough in a real lab: the cluster services on top of the fabric, the commands typed
// in k8s-master's shell (kubectl, calicoctl), and their real effects: BIRD sessions, ECMP routes,
// BFD failover, and node readiness from heartbeats across the fabric. Polls with deadlines.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { LAB_BIN, labExec, labOk, poll, teardown, uniqueSandbox, type Result } from './lab-support.ts';
import { LAB_WAIT_MS, LAB_TEST_TIMEOUT_MS } from '../support/deadlines.ts';

const WALKTHROUGH = new URL('../../lab/cluster/testdata/walkthrough/', import.meta.url);
const stdinOf = (name: string) => readFileSync(new URL(name, WALKTHROUGH), 'utf8');

/** Runs a command in a device of the lab with `input` on its standard input. */
function labExecInput(sandbox: string, device: string, argv: string[], input: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(LAB_BIN, ['--sandbox', sandbox, 'exec', device, '--', ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

async function ok(result: Promise<Result>): Promise<string> {
  const r = await result;
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
  return r.stdout;
}

interface Peer {
  address: string;
  type: string;
  state: string;
  info: string;
}

/** `sudo calicoctl node status` on a node, parsed. */
async function nodeStatus(sandbox: string, node: string): Promise<Peer[]> {
  const out = await ok(labExec(sandbox, node, ['sudo', 'calicoctl', 'node', 'status']));
  const ipv4 = out.slice(out.indexOf('IPv4 BGP status'), out.indexOf('IPv6 BGP status'));
  return ipv4.split('\n')
    .filter((line) => /^\| \d/.test(line))
    .map((line) => line.split('|').map((cell) => cell.trim()))
    .map(([, address, type, state, , info]) => ({ address: address!, type: type!, state: state!, info: info! }));
}

interface Route {
  dst: string;
  gateway?: string;
  nexthops?: { gateway: string; dev: string }[];
}

async function gatewaysTo(sandbox: string, node: string, prefix: string): Promise<string[]> {
  const routes = JSON.parse(await ok(labExec(sandbox, node, ['ip', '-j', 'route', 'show', prefix]))) as Route[];
  const route = routes[0];
  if (!route) return [];
  return route.nexthops ? route.nexthops.map((n) => n.gateway).sort() : route.gateway ? [route.gateway] : [];
}

async function nodeReady(sandbox: string, node: string): Promise<string> {
  const out = await ok(labExec(sandbox, 'k8s-master', ['kubectl', 'get', 'node', node]));
  return out.split('\n')[1]!.split(/\s+/)[1]!;
}

describe('the walkthrough in a lab', { timeout: LAB_TEST_TIMEOUT_MS }, () => {
  const sandbox = uniqueSandbox('cluster');
  before(async () => {
    await labOk(sandbox, ['up']);
  });
  after(async () => {
    await teardown(sandbox);
  });

  test('the cluster starts as the walkthrough does: both nodes Ready, the node-to-node mesh Established', async () => {
    await poll('both nodes Ready', LAB_WAIT_MS, async () => {
      const r = await labExec(sandbox, 'k8s-master', ['kubectl', 'get', 'node', '-o', 'wide']);
      return r.code === 0 && (r.stdout.match(/ Ready /g) ?? []).length === 2 ? r : undefined;
    });
    const peers = await poll('the mesh session', LAB_WAIT_MS, async () => {
      const s = await nodeStatus(sandbox, 'k8s-master');
      return s.length === 1 && s[0]!.info === 'Established' ? s : undefined;
    });
    assert.deepEqual(peers.map((p) => [p.address, p.type]), [['192.168.201.1', 'node-to-node mesh']]);
    // The mesh carries the other node's pod block, its next hop resolved through both TORs (the TORs
    // themselves learn pod blocks only once nodes peer with them, as in the original).
    assert.deepEqual(await poll('the worker\'s block on the master', LAB_WAIT_MS, async () => {
      const g = await gatewaysTo(sandbox, 'k8s-master', '10.10.230.0/26');
      return g.length === 2 ? g : undefined;
    }), ['10.50.1.1', '10.50.2.1']);
    const denied = await labExec(sandbox, 'k8s-master', ['calicoctl', 'node', 'status']);
    assert.deepEqual([denied.code, denied.stderr], [1, 'Need super user privileges: Operation not permitted\n']);
  });

  test('AS numbers, rack labels, the four BGPPeers and no mesh: two node-specific peers per node, ECMP through both TORs', async () => {
    assert.equal(await ok(labExec(sandbox, 'k8s-master', ['calicoctl', 'patch', 'node', 'k8s-master', '-p', '{"spec":{"bgp": {"asNumber": "65101"}}}'])), "Successfully patched 1 'Node' resource\n");
    assert.equal(await ok(labExec(sandbox, 'k8s-master', ['calicoctl', 'patch', 'node', 'k8s-worker-1', '-p', '{"spec":{"bgp": {"asNumber": "65102"}}}'])), "Successfully patched 1 'Node' resource\n");
    assert.equal(await ok(labExec(sandbox, 'k8s-master', ['kubectl', 'label', 'node', 'k8s-master', 'rack=rack1'])), 'node/k8s-master labeled\n');
    assert.equal(await ok(labExec(sandbox, 'k8s-master', ['kubectl', 'label', 'node', 'k8s-worker-1', 'rack=rack2'])), 'node/k8s-worker-1 labeled\n');
    assert.equal(await ok(labExecInput(sandbox, 'k8s-master', ['kubectl', 'apply', '-f', '-'], stdinOf('09-apply-peers.stdin.yaml'))), stdinOf('09-apply-peers.txt'));
    assert.equal(await ok(labExecInput(sandbox, 'k8s-master', ['calicoctl', 'apply', '-f', '-'], stdinOf('10-disable-mesh.stdin.yaml'))), stdinOf('10-disable-mesh.txt'));
    for (const [node, tors] of [['k8s-master', ['10.50.1.1', '10.50.2.1']], ['k8s-worker-1', ['10.50.3.1', '10.50.4.1']]] as const) {
      const peers = await poll(`two TOR sessions on ${node}`, LAB_WAIT_MS, async () => {
        const s = await nodeStatus(sandbox, node);
        return s.length === 2 && s.every((p) => p.info === 'Established') ? s : undefined;
      });
      assert.deepEqual(peers.map((p) => [p.address, p.type, p.state]), tors.map((t) => [t, 'node specific', 'up']));
    }
    assert.deepEqual(await poll('ECMP on the master', LAB_WAIT_MS, async () => {
      const g = await gatewaysTo(sandbox, 'k8s-master', '10.10.230.0/26');
      return g.length === 2 ? g : undefined;
    }), ['10.50.1.1', '10.50.2.1']);
    assert.deepEqual(await poll('ECMP on the worker', LAB_WAIT_MS, async () => {
      const g = await gatewaysTo(sandbox, 'k8s-worker-1', '10.10.235.192/26');
      return g.length === 2 ? g : undefined;
    }), ['10.50.3.1', '10.50.4.1']);
  });

  test('kubectl exec reaches pods across racks: ping, and HTTP to nginx', async () => {
    const ping = await ok(labExec(sandbox, 'k8s-master', ['kubectl', 'exec', 'busybox-rack1', '--', 'ping', '-c', '2', '-W', '1', '10.10.230.10']));
    assert.match(ping, /2 packets transmitted, 2 received/);
    const page = await ok(labExec(sandbox, 'k8s-master', ['kubectl', 'exec', 'busybox-rack1', '--', 'wget', '-qO-', '-T', '2', 'http://10.10.230.10/']));
    assert.match(page, /<title>Welcome to nginx!<\/title>/);
  });

  test('deleted coredns pods come back on k8s-worker-1 at 10.10.230.0 and .1, reachable', async () => {
    const out = await ok(labExec(sandbox, 'k8s-master', ['kubectl', 'delete', 'po', '-n', 'kube-system', '-l', 'k8s-app=kube-dns']));
    assert.equal(out.match(/^pod "coredns-66bff467f8-[a-z0-9]{5}" deleted$/gm)?.length, 2, out);
    const pods = await ok(labExec(sandbox, 'k8s-master', ['kubectl', 'get', 'po', '-n', 'kube-system', '-l', 'k8s-app=kube-dns', '-o', 'wide']));
    const rows = pods.trim().split('\n').slice(1).map((line) => line.split(/\s+/));
    assert.deepEqual(rows.map((r) => [r[5], r[6]]).sort(), [['10.10.230.0', 'k8s-worker-1'], ['10.10.230.1', 'k8s-worker-1']]);
    await ok(labExec(sandbox, 'k8s-master', ['kubectl', 'exec', 'busybox-rack1', '--', 'ping', '-c', '1', '-W', '2', '10.10.230.1']));
  });

  test('lab fail leaf10 --mode silent: BFD takes the session to 10.50.1.1 down, pod-to-pod traffic continues', async () => {
    await labOk(sandbox, ['fail', 'leaf10', '--mode', 'silent']);
    try {
      const down = await poll('the session to leaf10 down by BFD', LAB_WAIT_MS, async () => {
        const r = await labExec(sandbox, 'k8s-master', ['birdc', 'show', 'protocols', 'Node_10_50_1_1']);
        return /BFD session down/.test(r.stdout) ? r.stdout : undefined;
      });
      assert.match(down, /Node_10_50_1_1 +BGP +master +start/);
      const peers = await nodeStatus(sandbox, 'k8s-master');
      assert.deepEqual(peers.map((p) => [p.address, p.info === 'Established']), [['10.50.1.1', false], ['10.50.2.1', true]]);
      assert.deepEqual(await gatewaysTo(sandbox, 'k8s-master', '10.10.230.0/26'), ['10.50.2.1']);
      const ping = await ok(labExec(sandbox, 'k8s-master', ['kubectl', 'exec', 'busybox-rack1', '--', 'ping', '-c', '5', '-i', '0.1', '-W', '1', '10.10.230.10']));
      assert.match(ping, /5 packets transmitted, 5 received/);
    } finally {
      await labOk(sandbox, ['restore', 'leaf10']);
    }
    await poll('the session to leaf10 back', LAB_WAIT_MS, async () => {
      const s = await nodeStatus(sandbox, 'k8s-master');
      return s.every((p) => p.info === 'Established') ? s : undefined;
    });
  });

  test('without the TOR static routes k8s-worker-1 turns NotReady; the loopback IP pools make it Ready', async () => {
    for (const [leaf, prefix, via] of [
      ['leaf10', '192.168.200.1/32', '10.50.1.10'], ['leaf11', '192.168.200.1/32', '10.50.2.10'],
      ['leaf20', '192.168.201.1/32', '10.50.3.10'], ['leaf21', '192.168.201.1/32', '10.50.4.10'],
    ] as const) {
      await ok(labExec(sandbox, leaf, ['vtysh', '-c', 'configure terminal', '-c', `no ip route ${prefix} ${via}`]));
    }
    await poll('k8s-worker-1 NotReady', LAB_WAIT_MS, async () => ((await nodeReady(sandbox, 'k8s-worker-1')) === 'NotReady' ? true : undefined));
    assert.equal(await nodeReady(sandbox, 'k8s-master'), 'Ready');
    assert.equal(await ok(labExecInput(sandbox, 'k8s-master', ['kubectl', 'apply', '-f', '-'], stdinOf('13-loopback-pools.stdin.yaml'))), stdinOf('13-loopback-pools.txt'));
    await poll('k8s-worker-1 Ready again', LAB_WAIT_MS, async () => ((await nodeReady(sandbox, 'k8s-worker-1')) === 'Ready' ? true : undefined));
    const leafRoutes = await ok(labExec(sandbox, 'leaf20', ['vtysh', '-c', 'show ip route 10.10.230.0/26']));
    assert.match(leafRoutes, /10\.50\.3\.10, via VLAN10/);
  });
});
