// Golden-output tests: every command of the walkthrough (lab-facts §5, seed/dual-tor-blog.txt,
// corrected only for the missing brace), run in order against the lab's API server, compared with
// the walkthrough's own output (testdata/walkthrough/) with AGE, SINCE and generated pod-name parts
// masked. `calicoctl node status` reads a real BIRD 1.6 over its control socket.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Pod } from './resources.ts';
import {
  alignmentProblems, calicoctl, golden, kubectl, maskBoxTable, maskedTable, startBirdPair, startCluster, type TestCluster,
} from './test-support.ts';

const MINUTE = 60_000;

/** Polls `check` until it returns a value (BGP takes a moment to come up). */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the walkthrough, command by command', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster();
  });
  after(async () => {
    await cluster.close();
  });

  it('kubectl get node -o wide', async () => {
    const run = await kubectl(cluster, ['get', 'node', '-o', 'wide']);
    assert.equal(run.stderr, '');
    assert.equal(run.code, 0);
    assert.equal(run.stdout, golden('01-get-node-wide.txt'));
  });

  it('kubectl get po -A -owide (the test pods of namespace default are the lab\'s addition)', async () => {
    const run = await kubectl(cluster, ['get', 'po', '-A', '-owide']);
    assert.equal(run.code, 0);
    assert.deepEqual(alignmentProblems(run.stdout), []);
    // With the generated parts masked, rows are compared as a set: the generated names decide the
    // order of same-named rows (the two coredns pods).
    const sorted = (rows: string[][]) => [rows[0], ...rows.slice(1).sort((a, b) => a.join(' ').localeCompare(b.join(' ')))];
    const rows = maskedTable(run.stdout).filter((row) => row[0] !== 'default');
    assert.deepEqual(sorted(rows), sorted(maskedTable(golden('02-get-po-all-wide.txt'))));
    const defaults = maskedTable(run.stdout).filter((row) => row[0] === 'default').map((row) => [row[1], row[6], row[7]]);
    assert.deepEqual(defaults, [
      ['busybox-rack1', '10.10.235.198', 'k8s-master'],
      ['busybox-rack2', '10.10.230.11', 'k8s-worker-1'],
      ['nginx-rack1', '10.10.235.197', 'k8s-master'],
      ['nginx-rack2', '10.10.230.10', 'k8s-worker-1'],
    ]);
  });

  it('sudo calicoctl node status (mesh) reads BIRD', async () => {
    const bird = await startBirdPair(['Mesh_192_168_201_1'], 17_900);
    try {
      const output = await until('the mesh session', async () => {
        const run = await calicoctl(cluster, ['node', 'status'], { privileged: true, birdSocket: bird.socket });
        return run.stdout.includes('| up    |') ? run : undefined;
      });
      assert.equal(output.code, 0);
      assert.equal(maskBoxTable(output.stdout), maskBoxTable(golden('03-node-status-mesh.txt')));
    } finally {
      await bird.stop();
    }
  });

  it('calicoctl node status without sudo', async () => {
    const run = await calicoctl(cluster, ['node', 'status'], { privileged: false, birdSocket: '/nonexistent' });
    assert.deepEqual([run.code, run.stdout, run.stderr], [1, '', 'Need super user privileges: Operation not permitted\n']);
  });

  it("calicoctl patch node k8s-master -p '{\"spec\":{\"bgp\": {\"asNumber\": \"65101\"}}}'", async () => {
    const run = await calicoctl(cluster, ['patch', 'node', 'k8s-master', '-p', '{"spec":{"bgp": {"asNumber": "65101"}}}']);
    assert.deepEqual([run.code, run.stdout, run.stderr], [0, golden('04-patch-master.txt'), '']);
  });

  it('the walkthrough\'s uncorrected patch (missing brace) gets calicoctl\'s error and changes nothing', async () => {
    const before = await cluster.client.list('nodes');
    const run = await calicoctl(cluster, ['patch', 'node', 'k8s-worker-1', '-p', '{"spec":{"bgp": {"asNumber": "65102"}}']);
    assert.deepEqual([run.code, run.stdout, run.stderr], [1, '', 'Hit error: permorming strategic merge patch: invalid JSON document\n']);
    const after = await cluster.client.list('nodes');
    assert.ok(before.ok && after.ok);
    assert.equal(after.value.revision, before.value.revision);
  });

  it("calicoctl patch node k8s-worker-1 -p '{\"spec\":{\"bgp\": {\"asNumber\": \"65102\"}}}' (brace corrected)", async () => {
    const run = await calicoctl(cluster, ['patch', 'node', 'k8s-worker-1', '-p', '{"spec":{"bgp": {"asNumber": "65102"}}}']);
    assert.deepEqual([run.code, run.stdout, run.stderr], [0, golden('04-patch-master.txt'), '']);
  });

  it('kubectl label node k8s-master rack=rack1; kubectl label node k8s-worker-1 rack=rack2', async () => {
    const master = await kubectl(cluster, ['label', 'node', 'k8s-master', 'rack=rack1']);
    assert.deepEqual([master.code, master.stdout, master.stderr], [0, golden('06-label-master.txt'), '']);
    const worker = await kubectl(cluster, ['label', 'node', 'k8s-worker-1', 'rack=rack2']);
    assert.deepEqual([worker.code, worker.stdout, worker.stderr], [0, golden('07-label-worker.txt'), '']);
  });

  it('kubectl get node --show-labels (ten and a half minutes later, as in the walkthrough)', async () => {
    cluster.clock.now += 10.5 * MINUTE;
    cluster.heartbeat();
    const run = await kubectl(cluster, ['get', 'node', '--show-labels']);
    assert.equal(run.code, 0);
    assert.equal(run.stdout, golden('08-get-node-show-labels.txt'));
  });

  it('calicoctl get node -o yaml shows the AS numbers and addresses as a NodeList', async () => {
    const run = await calicoctl(cluster, ['get', 'node', '-o', 'yaml']);
    assert.equal(run.code, 0);
    assert.match(run.stdout, /^apiVersion: projectcalico\.org\/v3\nitems:\n- apiVersion: projectcalico\.org\/v3\n  kind: Node\n/);
    assert.match(run.stdout, /  spec:\n    addresses:\n    - address: 192\.168\.200\.1\/32\n      type: CalicoNodeIP\n    - address: 192\.168\.200\.1\n      type: InternalIP\n    bgp:\n      asNumber: 65101\n      ipv4Address: 192\.168\.200\.1\/32\n/);
    assert.match(run.stdout, /      asNumber: 65102\n      ipv4Address: 192\.168\.201\.1\/32\n/);
    assert.match(run.stdout, /\nkind: NodeList\nmetadata:\n  resourceVersion: "\d+"\n$/);
    // What calicoctl prints, it takes back.
    const one = await calicoctl(cluster, ['get', 'node', 'k8s-master', '-o', 'yaml']);
    assert.deepEqual(await calicoctl(cluster, ['apply', '-f', '-'], { stdin: one.stdout }), { code: 0, stdout: "Successfully applied 1 'Node' resource(s)\n", stderr: '' });
    const wide = await calicoctl(cluster, ['get', 'node', '-o', 'wide']);
    assert.equal(wide.stdout, 'NAME           ASN     IPV4               IPV6   \nk8s-master     65101   192.168.200.1/32          \nk8s-worker-1   65102   192.168.201.1/32          \n\n');
  });

  it('kubectl apply -f - <<EOF (the four BGPPeers)', async () => {
    const stdin = golden('09-apply-peers.stdin.yaml');
    const run = await kubectl(cluster, ['apply', '-f', '-'], { stdin });
    assert.deepEqual([run.code, run.stdout, run.stderr], [0, golden('09-apply-peers.txt'), '']);
    const again = await kubectl(cluster, ['apply', '-f', '-'], { stdin });
    assert.equal(again.stdout, golden('09-apply-peers.txt').replaceAll('created', 'unchanged'));
    const peers = await calicoctl(cluster, ['get', 'bgppeer']);
    assert.equal(peers.stdout, [
      'NAME         PEERIP      NODE              ASN     ',
      "rack1-tor1   10.50.1.1   rack == 'rack1'   65101   ",
      "rack1-tor2   10.50.2.1   rack == 'rack1'   65101   ",
      "rack2-tor1   10.50.3.1   rack == 'rack2'   65102   ",
      "rack2-tor2   10.50.4.1   rack == 'rack2'   65102   ",
      '', '',
    ].join('\n'));
  });

  it('calicoctl apply -f - <<EOF (BGPConfiguration default, mesh disabled)', async () => {
    const run = await calicoctl(cluster, ['apply', '-f', '-'], { stdin: golden('10-disable-mesh.stdin.yaml') });
    assert.deepEqual([run.code, run.stdout, run.stderr], [0, golden('10-disable-mesh.txt'), '']);
    const config = await calicoctl(cluster, ['get', 'bgpconfig']);
    assert.equal(config.stdout, 'NAME      LOGSEVERITY   MESHENABLED   ASNUMBER   \ndefault   Info          false         -          \n\n');
  });

  it('sudo calicoctl node status (two node-specific peers)', async () => {
    const bird = await startBirdPair(['Node_10_50_1_1', 'Node_10_50_2_1'], 17_910);
    try {
      const output = await until('both TOR sessions', async () => {
        const run = await calicoctl(cluster, ['node', 'status'], { privileged: true, birdSocket: bird.socket });
        return run.stdout.split('| up    |').length === 3 ? run : undefined;
      });
      assert.equal(maskBoxTable(output.stdout), maskBoxTable(golden('11-node-status-tors.txt')));
    } finally {
      await bird.stop();
    }
  });

  it('kubectl delete po -n kube-system -l k8s-app=kube-dns: they come back on k8s-worker-1 at 10.10.230.0 and .1', async () => {
    const run = await kubectl(cluster, ['delete', 'po', '-n', 'kube-system', '-l', 'k8s-app=kube-dns']);
    assert.equal(run.code, 0);
    assert.deepEqual(run.stdout.split('\n').filter(Boolean).map((l) => l.replace(/-[a-z0-9]{5}"/, '-<id>"')), [
      'pod "coredns-66bff467f8-<id>" deleted',
      'pod "coredns-66bff467f8-<id>" deleted',
    ]);
    const pods = await cluster.client.list('pods', { namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' });
    assert.ok(pods.ok);
    assert.deepEqual((pods.value.items as Pod[]).map((p) => [p.spec.nodeName, p.status?.podIP]).sort(), [
      ['k8s-worker-1', '10.10.230.0'],
      ['k8s-worker-1', '10.10.230.1'],
    ]);
  });

  it('kubectl apply of the two disabled loopback IPPools', async () => {
    const run = await kubectl(cluster, ['apply', '-f', '-'], { stdin: golden('13-loopback-pools.stdin.yaml') });
    assert.deepEqual([run.code, run.stdout, run.stderr], [0, golden('13-loopback-pools.txt'), '']);
    const pools = await calicoctl(cluster, ['get', 'ippool', '-o', 'wide']);
    assert.equal(pools.stdout, [
      'NAME                  CIDR               NAT     IPIPMODE   VXLANMODE   DISABLED   DISABLEBGPEXPORT   SELECTOR          ',
      'default-ipv4-ippool   10.10.0.0/16       false   Never      Never       false      false              all()             ',
      "loopbacks-rack-a      192.168.200.1/32   false   Never      Never       true       false              rack == 'rack1'   ",
      "loopbacks-rack-b      192.168.201.1/32   false   Never      Never       true       false              rack == 'rack2'   ",
      '', '',
    ].join('\n'));
  });
});
