import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CalicoNodeAgent } from './calico-node.ts';
import { Kubelet } from './kubelet.ts';
import type { KubeNode } from './resources.ts';
import { golden, kubectl, startCluster, type TestCluster } from './test-support.ts';

/** Answers BIRD's control protocol as far as the agent uses it: greeting, then `configure`. */
function fakeBirdSocket(path: string, commands: string[]): Promise<Server> {
  const server = createServer((socket) => {
    socket.setEncoding('utf8');
    socket.write('0001 BIRD 1.6.8 ready.\n');
    socket.on('data', (data: string) => {
      for (const command of data.split('\n').filter(Boolean)) {
        commands.push(command);
        socket.write(command === 'configure' ? '0002-Reading configuration from /etc/bird.conf\n0003 Reconfigured\n' : '9001 unknown command\n');
      }
    });
  });
  return new Promise((resolve) => server.listen(path, () => resolve(server)));
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Date.now() - started;
}

describe('calico-node agent', () => {
  let cluster: TestCluster;
  let dir: string;
  let bird: Server;
  const commands: string[] = [];
  let agent: CalicoNodeAgent;
  const configPath = () => join(dir, 'bird.conf');
  const config = () => {
    try {
      return readFileSync(configPath(), 'utf8');
    } catch {
      return '';
    }
  };

  before(async () => {
    cluster = await startCluster();
    dir = mkdtempSync(join(tmpdir(), 'cluster-agent-'));
    bird = await fakeBirdSocket(join(dir, 'bird.ctl'), commands);
    agent = new CalicoNodeAgent({
      node: 'k8s-master',
      client: cluster.client,
      configPath: configPath(),
      birdSocket: join(dir, 'bird.ctl'),
      connected: async () => ['127.0.0.0/8', '192.168.200.1/32', '10.50.1.0/24', '10.50.2.0/24'],
      log: () => {},
    });
    agent.start();
  });
  after(async () => {
    await agent.stop();
    await new Promise((resolve) => bird.close(resolve));
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('renders the mesh configuration at start and reloads BIRD', async () => {
    await until('the first render', () => config().includes('protocol bgp Mesh_192_168_201_1'), 5_000);
    await until('a configure', () => commands.includes('configure'), 5_000);
  });

  it('a resource change reaches BIRD within 1 s', async () => {
    const reloads = commands.length;
    const started = Date.now();
    assert.equal((await kubectl(cluster, ['label', 'node', 'k8s-master', 'rack=rack1'])).code, 0);
    assert.equal((await kubectl(cluster, ['apply', '-f', '-'], { stdin: golden('09-apply-peers.stdin.yaml') })).code, 0);
    await until('the TOR peers in the configuration', () => config().includes('protocol bgp Node_10_50_2_1'), 1_000);
    await until('BIRD reloaded', () => commands.length > reloads, 1_000);
    assert.ok(Date.now() - started < 1_000, `took ${Date.now() - started} ms`);
  });

  it('a changed file on disk is put back (another writer cannot leave BIRD on a stale configuration)', async () => {
    const rendered = config();
    writeFileSync(configPath(), '# replaced\n');
    await until('the configuration restored', () => config() === rendered, 8_000);
  });

  it('a pod change alone does not re-render', async () => {
    const renders = agent.renders;
    const batches = agent.eventBatches;
    assert.equal((await kubectl(cluster, ['delete', 'pod', '-n', 'default', 'nginx-rack1'])).code, 0);
    await until('the agent to see the pod event', () => agent.eventBatches > batches, 2_000);
    assert.equal(agent.renders, renders);
  });
});

describe('kubelet heartbeats', () => {
  it('keep a node Ready; without them it turns NotReady after the grace period', async () => {
    const cluster = await startCluster();
    const kubelet = new Kubelet({ node: 'k8s-worker-1', client: cluster.client, nodeIP: '127.0.0.1', log: () => {} });
    const ready = async () => {
      const node = await cluster.client.get('nodes', 'k8s-worker-1');
      assert.ok(node.ok);
      return (node.value as KubeNode).status?.conditions?.find((c) => c.type === 'Ready')?.status;
    };
    try {
      cluster.clock.now += 60_000;
      assert.equal(await ready(), 'Unknown', 'no heartbeat for a minute');
      kubelet.start();
      await until('a heartbeat', () => kubelet.connected === true, 5_000);
      assert.equal(await ready(), 'True');
      await kubelet.stop();
      cluster.clock.now += 11_000;
      assert.equal(await ready(), 'Unknown');
      assert.match((await kubectl(cluster, ['get', 'node', 'k8s-worker-1'])).stdout, /k8s-worker-1   NotReady   <none>/);
    } finally {
      await kubelet.stop();
      await cluster.close();
    }
  });

  it('a heartbeat that cannot leave from the node address fails', async () => {
    const cluster = await startCluster();
    // 192.0.2.1 (TEST-NET) is on no interface of this host: the socket cannot bind, nothing is sent.
    const kubelet = new Kubelet({ node: 'k8s-worker-1', client: cluster.client, nodeIP: '192.0.2.1', log: () => {} });
    try {
      assert.equal(await kubelet.beat(), false);
    } finally {
      await cluster.close();
    }
  });
});
