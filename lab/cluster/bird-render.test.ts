// Rendered BIRD configurations for each state of the walkthrough, per node, against golden files
// (testdata/bird/), each also parsed by the real BIRD 1.6.8 (`bird -p`). UPDATE_GOLDEN=1 rewrites
// the golden files (review the diff before committing it).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { renderBirdConfig, renderInput, type ClusterResources } from './bird-render.ts';
import type { BGPConfiguration, BGPPeer, BlockAffinity, IPPool, KubeNode } from './resources.ts';
import { calicoctl, golden, kubectl, startCluster, type TestCluster } from './test-support.ts';

/** The subnets of each node's interfaces in the lab (lo, enp0s8, enp0s9). */
const CONNECTED: Record<string, string[]> = {
  'k8s-master': ['127.0.0.0/8', '192.168.200.1/32', '10.50.1.0/24', '10.50.2.0/24'],
  'k8s-worker-1': ['127.0.0.0/8', '192.168.201.1/32', '10.50.3.0/24', '10.50.4.0/24'],
};

async function resources(cluster: TestCluster): Promise<ClusterResources> {
  const list = async (kind: 'nodes' | 'bgppeers' | 'bgpconfigurations' | 'ippools' | 'blockaffinities') => {
    const result = await cluster.client.list(kind);
    assert.ok(result.ok);
    return result.value.items;
  };
  return {
    nodes: (await list('nodes')) as KubeNode[],
    peers: (await list('bgppeers')) as BGPPeer[],
    configurations: (await list('bgpconfigurations')) as BGPConfiguration[],
    pools: (await list('ippools')) as IPPool[],
    blocks: (await list('blockaffinities')) as BlockAffinity[],
  };
}

const update = process.env.UPDATE_GOLDEN === '1';

function checkGolden(name: string, text: string): void {
  const path = new URL(`./testdata/bird/${name}`, import.meta.url);
  if (update) writeFileSync(path, text);
  assert.equal(text, readFileSync(path, 'utf8'), `rendered ${name} differs from its golden file`);
}

describe('rendered BIRD configuration per walkthrough state', () => {
  let cluster: TestCluster;
  let dir: string;
  before(async () => {
    cluster = await startCluster();
    dir = mkdtempSync(join(tmpdir(), 'cluster-render-'));
  });
  after(async () => {
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function renderBoth(state: string): Promise<Record<string, string>> {
    const all = await resources(cluster);
    const out: Record<string, string> = {};
    for (const node of ['k8s-master', 'k8s-worker-1']) {
      const text = renderBirdConfig(renderInput(all, node, CONNECTED[node]!));
      const file = join(dir, `${state}-${node}.conf`);
      writeFileSync(file, text);
      // The real BIRD 1.6.8 must accept it (`-p`: parse only).
      execFileSync('bird', ['-p', '-c', file], { stdio: 'pipe' });
      checkGolden(`${state}-${node}.conf`, text);
      out[node] = text;
    }
    return out;
  }

  it('1. initial: node-to-node mesh over the loopbacks, AS 64512, passive on the lower address', async () => {
    const { 'k8s-master': master, 'k8s-worker-1': worker } = await renderBoth('1-mesh');
    assert.match(master!, /protocol bgp Mesh_192_168_201_1 from bgp_template \{\n  neighbor 192\.168\.201\.1 as 64512;\n  source address 192\.168\.200\.1;.*\n  passive on;/);
    assert.match(worker!, /protocol bgp Mesh_192_168_200_1 from bgp_template \{\n  neighbor 192\.168\.200\.1 as 64512;\n  source address 192\.168\.201\.1;.*\n\}/);
    assert.doesNotMatch(worker!, /passive on/);
    assert.match(master!, /local as 64512;/);
    assert.match(master!, /route 10\.10\.235\.192\/26 blackhole;/);
    assert.match(worker!, /route 10\.10\.230\.0\/26 blackhole;/);
  });

  it('2. after the AS numbers and rack labels: local AS from the node, mesh neighbours with theirs', async () => {
    for (const [node, as] of [['k8s-master', '65101'], ['k8s-worker-1', '65102']] as const) {
      assert.equal((await calicoctl(cluster, ['patch', 'node', node, '-p', `{"spec":{"bgp": {"asNumber": "${as}"}}}`])).code, 0);
    }
    assert.equal((await kubectl(cluster, ['label', 'node', 'k8s-master', 'rack=rack1'])).code, 0);
    assert.equal((await kubectl(cluster, ['label', 'node', 'k8s-worker-1', 'rack=rack2'])).code, 0);
    const { 'k8s-master': master, 'k8s-worker-1': worker } = await renderBoth('2-as-labels');
    assert.match(master!, /local as 65101;/);
    assert.match(master!, /neighbor 192\.168\.201\.1 as 65102;/);
    assert.match(worker!, /local as 65102;/);
    assert.match(worker!, /neighbor 192\.168\.200\.1 as 65101;/);
  });

  it('3. after the four BGPPeers: two direct TOR sessions per node, BFD, LLGR, gateway direct, no source address', async () => {
    assert.equal((await kubectl(cluster, ['apply', '-f', '-'], { stdin: golden('09-apply-peers.stdin.yaml') })).code, 0);
    const { 'k8s-master': master, 'k8s-worker-1': worker } = await renderBoth('3-peers');
    for (const [text, tors, as] of [[master!, ['10_50_1_1', '10_50_2_1'], 65101], [worker!, ['10_50_3_1', '10_50_4_1'], 65102]] as const) {
      for (const tor of tors) {
        const ip = tor.replaceAll('_', '.');
        assert.ok(text.includes(`protocol bgp Node_${tor} from bgp_template {\n  neighbor ${ip} as ${as};\n  direct;`), `Node_${tor}`);
      }
      assert.equal(text.match(/protocol bgp Node_/g)?.length, 2);
      assert.equal(text.match(/  gateway direct;/g)?.length, 2);
      assert.equal(text.match(/  bfd on;/g)?.length, 2);
      assert.equal(text.match(/  long lived graceful restart yes;/g)?.length, 2);
      assert.match(text, /protocol bfd \{/);
      assert.match(text, /protocol bgp Mesh_/, 'the mesh is still on');
    }
    // sourceAddress None: the kernel picks the interface address (inside the TOR's listen range).
    assert.doesNotMatch(master!.slice(master!.indexOf('Node-specific peers')), /source address/);
  });

  it('4. mesh disabled: only the TOR sessions', async () => {
    assert.equal((await calicoctl(cluster, ['apply', '-f', '-'], { stdin: golden('10-disable-mesh.stdin.yaml') })).code, 0);
    const { 'k8s-master': master } = await renderBoth('4-no-mesh');
    assert.match(master!, /# Node-to-node mesh disabled/);
    assert.doesNotMatch(master!, /protocol bgp Mesh_/);
  });

  it('5. loopback IP pools: exported whatever their nodeSelector and although disabled', async () => {
    assert.equal((await kubectl(cluster, ['apply', '-f', '-'], { stdin: golden('13-loopback-pools.stdin.yaml') })).code, 0);
    const { 'k8s-master': master, 'k8s-worker-1': worker } = await renderBoth('5-loopback-pools');
    for (const text of [master!, worker!]) {
      const exportFilter = text.slice(text.indexOf('filter calico_export_to_bgp_peers'), text.indexOf('filter calico_kernel_programming'));
      // Both loopback pools on both nodes: the worker also re-exports its route to 192.168.200.1/32.
      assert.match(exportFilter, /if \( net ~ 192\.168\.200\.1\/32 \) then \{\n    accept;/);
      assert.match(exportFilter, /if \( net ~ 192\.168\.201\.1\/32 \) then \{\n    accept;/);
      assert.match(exportFilter, /if \( net ~ 10\.10\.0\.0\/16 \) then \{\n    accept;/);
    }
  });

  it('a peer that is not directly connected is multihop, without BFD or gateway direct', () => {
    const text = renderBirdConfig({
      node: 'k8s-master',
      nodes: [{ name: 'k8s-master', ipv4: '192.168.200.1', labels: { rack: 'rack1' } }],
      peers: [{
        apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name: 'far' },
        spec: { peerIP: '172.16.255.1:1790', asNumber: 65001, sourceAddress: 'UseNodeIP', failureDetectionMode: 'BFDIfDirectlyConnected', birdGatewayMode: 'DirectIfDirectlyConnected', maxRestartTime: '2m' },
      }],
      configurations: [],
      pools: [],
      blocks: [],
      connected: CONNECTED['k8s-master']!,
    });
    const start = text.indexOf('protocol bgp Global_172_16_255_1_port_1790');
    assert.ok(start > 0, 'a global peer with a port');
    const body = text.slice(start, text.indexOf('}', start));
    assert.match(body, /neighbor 172\.16\.255\.1 port 1790 as 65001;/);
    assert.match(body, /source address 192\.168\.200\.1;/);
    assert.match(body, /graceful restart time 120;/);
    assert.doesNotMatch(body, /direct|bfd on/);
    const file = join(dir, 'far.conf');
    writeFileSync(file, text);
    execFileSync('bird', ['-p', '-c', file], { stdio: 'pipe' });
  });
});
