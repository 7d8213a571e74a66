// kubectl beyond the walkthrough's own commands: output formats, label removal, namespaces,
// describe node, delete by name, exec's target.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ExecTarget } from './cli-io.ts';
import { alignmentProblems, golden, kubectl, startCluster, type TestCluster } from './test-support.ts';

describe('kubectl', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster();
  });
  after(async () => {
    await cluster.close();
  });

  it('get node NAME -o yaml prints the object; a list prints kind List', async () => {
    const one = await kubectl(cluster, ['get', 'node', 'k8s-master', '-o', 'yaml']);
    assert.match(one.stdout, /^apiVersion: v1\nkind: Node\nmetadata:\n  annotations:\n/);
    assert.match(one.stdout, /\n    node-role\.kubernetes\.io\/master: ""\n/);
    assert.match(one.stdout, /\n  - lastHeartbeatTime: "2026-11-26T16:14:50Z"\n/);
    const list = await kubectl(cluster, ['get', 'nodes', '-o', 'json']);
    const parsed = JSON.parse(list.stdout) as { kind: string; items: unknown[] };
    assert.equal(parsed.kind, 'List');
    assert.equal(parsed.items.length, 2);
    assert.match(list.stdout, /^\{\n    "apiVersion": "v1",\n/);
  });

  it('get -o name, and -l with Kubernetes selectors', async () => {
    assert.equal((await kubectl(cluster, ['get', 'po', '-A', '-l', 'k8s-app in (kube-dns,kube-proxy)', '-o', 'name'])).stdout.split('\n').filter(Boolean).length, 4);
    assert.equal((await kubectl(cluster, ['get', 'nodes', '-l', '!node-role.kubernetes.io/master', '-o', 'name'])).stdout, 'node/k8s-worker-1\n');
  });

  it('get pods in default, and no resources found elsewhere', async () => {
    const pods = await kubectl(cluster, ['get', 'pods']);
    assert.deepEqual(alignmentProblems(pods.stdout), []);
    assert.match(pods.stdout, /^NAME            READY   STATUS    RESTARTS   AGE\nbusybox-rack1   1\/1     Running   0          60m\n/);
    const none = await kubectl(cluster, ['get', 'pods', '-n', 'nowhere']);
    assert.deepEqual([none.code, none.stdout, none.stderr], [0, '', 'No resources found in nowhere namespace.\n']);
  });

  it('get namespaces', async () => {
    const ns = await kubectl(cluster, ['get', 'ns']);
    assert.deepEqual(ns.stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0]), [
      'NAME', 'calico-system', 'default', 'kube-node-lease', 'kube-public', 'kube-system', 'tigera-operator', 'tigera-prometheus', 'tigera-system',
    ]);
  });

  it('get --no-headers prints the rows alone, aligned among themselves', async () => {
    const nodes = await kubectl(cluster, ['get', 'nodes', '--no-headers']);
    assert.equal(nodes.code, 0);
    const lines = nodes.stdout.split('\n').filter(Boolean);
    assert.deepEqual(lines.map((l) => l.split(/\s+/)[0]), ['k8s-master', 'k8s-worker-1']);
    assert.match(lines[0]!, /^k8s-master     Ready   master   \S+   v1\.18\.1$/);
  });

  it('get bgppeers lists Calico resources with NAME and CREATED AT', async () => {
    assert.equal((await kubectl(cluster, ['apply', '-f', '-'], { stdin: golden('09-apply-peers.stdin.yaml') })).code, 0);
    const peers = await kubectl(cluster, ['get', 'bgppeers.projectcalico.org']);
    assert.match(peers.stdout, /^NAME         CREATED AT\nrack1-tor1   2026-11-26T16:14:50Z\n/);
  });

  it('label --overwrite and key- (removal)', async () => {
    assert.equal((await kubectl(cluster, ['label', 'node', 'k8s-master', 'rack=rack1'])).stdout, 'node/k8s-master labeled\n');
    assert.equal((await kubectl(cluster, ['label', 'node', 'k8s-master', 'rack=rack9', '--overwrite'])).stdout, 'node/k8s-master labeled\n');
    assert.equal((await kubectl(cluster, ['label', 'node', 'k8s-master', 'rack-'])).stdout, 'node/k8s-master unlabeled\n');
    assert.equal((await kubectl(cluster, ['label', 'node', 'k8s-master', 'rack-'])).stdout, 'label "rack" not found.\nnode/k8s-master not labeled\n');
    assert.doesNotMatch((await kubectl(cluster, ['get', 'node', 'k8s-master', '--show-labels'])).stdout, /rack=/);
  });

  it('apply: configured when something changed, unchanged otherwise; removed fields go', async () => {
    const stdin = 'apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: extra\nspec:\n  peerIP: 10.50.1.1\n  asNumber: 65101\n  node: k8s-master\n  keepaliveTime: 10s\n';
    assert.equal((await kubectl(cluster, ['apply', '-f', 'peer.yaml'], { files: { 'peer.yaml': stdin } })).stdout, 'bgppeer.projectcalico.org/extra created\n');
    assert.equal((await kubectl(cluster, ['apply', '-f', '-'], { stdin })).stdout, 'bgppeer.projectcalico.org/extra unchanged\n');
    const changed = stdin.replace('  keepaliveTime: 10s\n', '');
    assert.equal((await kubectl(cluster, ['apply', '-f', '-'], { stdin: changed })).stdout, 'bgppeer.projectcalico.org/extra configured\n');
    const peer = await cluster.client.get('bgppeers', 'extra');
    assert.ok(peer.ok);
    assert.equal((peer.value.spec as { keepaliveTime?: string }).keepaliveTime, undefined);
    assert.equal((await kubectl(cluster, ['delete', 'bgppeer', 'extra'])).stdout, 'bgppeer.projectcalico.org "extra" deleted\n');
  });

  it('describe node', async () => {
    const out = (await kubectl(cluster, ['describe', 'node', 'k8s-worker-1'])).stdout;
    assert.match(out, /^Name:               k8s-worker-1\nRoles:              <none>\nLabels:             beta\.kubernetes\.io\/arch=amd64\n                    beta\.kubernetes\.io\/os=linux\n/);
    assert.match(out, /\n  Ready           True    Thu, 26 Nov 2026 16:14:50 \+0000 /);
    assert.match(out, /\n  InternalIP:  192\.168\.201\.1\n/);
    assert.match(out, /Non-terminated Pods:  \(5 in total\)/);
  });

  it('exec runs in the pod\'s namespace (or its node\'s for a host-network pod)', async () => {
    const seen: Array<[ExecTarget, string[]]> = [];
    const exec = async (target: ExecTarget, argv: string[]) => {
      seen.push([target, argv]);
      return 3;
    };
    const run = await kubectl(cluster, ['exec', '-it', 'busybox-rack1', '--', 'ping', '-c', '1', '10.10.230.10'], { exec });
    assert.equal(run.code, 3, 'the command\'s exit code');
    await kubectl(cluster, ['exec', '-n', 'kube-system', 'kube-proxy-klqx8', '--', 'ip', 'route'], { exec });
    assert.deepEqual(seen, [
      [{ netns: 'default.busybox-rack1', hostname: 'busybox-rack1', node: 'k8s-master', hostNetwork: false }, ['ping', '-c', '1', '10.10.230.10']],
      [{ netns: 'k8s-worker-1', hostname: 'kube-proxy-klqx8', node: 'k8s-worker-1', hostNetwork: true }, ['ip', 'route']],
    ]);
    const missing = await kubectl(cluster, ['exec', 'nope', '--', 'true'], { exec });
    assert.deepEqual([missing.code, missing.stderr], [1, 'Error from server (NotFound): pods "nope" not found\n']);
  });
});
