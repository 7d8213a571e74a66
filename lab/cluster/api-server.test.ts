import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiServer } from './api-server.ts';
import { ApiClient } from './client.ts';
import type { KubeNode, Pod } from './resources.ts';
import { seedObjects } from './seed.ts';
import { Store } from './store.ts';
import { loadTopology } from '../topology.ts';

const topology = loadTopology();

interface Running {
  server: ApiServer;
  client: ApiClient;
  clock: { now: number };
}

async function start(file: string | undefined, clock = { now: Date.parse('2026-11-26T08:00:00Z') }): Promise<Running> {
  const store = Store.open(file, () => seedObjects(clock.now, topology));
  const server = new ApiServer({ store, now: () => clock.now, log: () => {} });
  const address = await server.listen(0, '127.0.0.1');
  return { server, client: new ApiClient(`http://127.0.0.1:${address.port}`), clock };
}

const peer = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'projectcalico.org/v3', kind: 'BGPPeer', metadata: { name }, spec,
});

describe('API server', () => {
  let dir: string;
  let running: Running;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cluster-api-'));
    running = await start(join(dir, 'datastore.json'));
  });
  after(async () => {
    await running.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the seeded cluster', async () => {
    const nodes = await running.client.list('nodes');
    assert.ok(nodes.ok);
    assert.deepEqual(nodes.value.items.map((n) => n.metadata.name), ['k8s-master', 'k8s-worker-1']);
    const pods = await running.client.list('pods', { namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' });
    assert.ok(pods.ok);
    // Listed by name, as the walkthrough prints them: coredns-66bff467f8-578tg, then -647mw.
    assert.deepEqual(pods.value.items.map((p) => (p as Pod).status?.podIP), ['10.10.235.195', '10.10.235.193']);
  });

  it('creates, refuses a duplicate, updates with a resourceVersion precondition, deletes', async () => {
    const { client } = running;
    const created = await client.create('bgppeers', peer('rack1-tor1', { peerIP: '10.50.1.1', asNumber: '65101', nodeSelector: "rack == 'rack1'" }));
    assert.ok(created.ok);
    assert.equal((created.value.spec as { asNumber: number }).asNumber, 65101, 'string AS numbers are stored as numbers');
    const again = await client.create('bgppeers', peer('rack1-tor1', { peerIP: '10.50.1.1' }));
    assert.ok(!again.ok);
    assert.equal(again.status.reason, 'AlreadyExists');
    const stale = await client.update('bgppeers', 'rack1-tor1', { ...peer('rack1-tor1', { peerIP: '10.50.1.2' }), metadata: { name: 'rack1-tor1', resourceVersion: '1' } });
    assert.ok(!stale.ok);
    assert.equal(stale.status.reason, 'Conflict');
    const updated = await client.update('bgppeers', 'rack1-tor1', { ...peer('rack1-tor1', { peerIP: '10.50.1.2' }), metadata: { name: 'rack1-tor1', resourceVersion: created.value.metadata.resourceVersion } });
    assert.ok(updated.ok);
    assert.equal(updated.value.metadata.uid, created.value.metadata.uid);
    const deleted = await client.delete('bgppeers', 'rack1-tor1');
    assert.ok(deleted.ok);
    const gone = await client.get('bgppeers', 'rack1-tor1');
    assert.ok(!gone.ok);
    assert.equal(gone.status.message, 'bgppeers.crd.projectcalico.org "rack1-tor1" not found');
  });

  it('rejects invalid input with Calico\'s causes and changes nothing', async () => {
    const { client } = running;
    const before = (await client.list('bgppeers'));
    assert.ok(before.ok);
    const invalid = await client.create('bgppeers', peer('bad', { peerIP: '10.50.1.1:x', node: 'k8s-master', nodeSelector: 'all()' }));
    assert.ok(!invalid.ok);
    assert.equal(invalid.status.reason, 'Invalid');
    assert.deepEqual(invalid.status.details.causes?.map((c) => c.name), ['PeerIP', 'Node']);
    const unknownField = await client.create('bgppeers', peer('bad', { peerIPs: '10.50.1.1' }));
    assert.ok(!unknownField.ok);
    assert.equal(unknownField.status.reason, 'BadRequest');
    assert.equal(unknownField.status.message, 'json: unknown field "peerIPs"');
    const badAS = await client.create('bgppeers', peer('bad', { asNumber: '65101.x' }));
    assert.ok(!badAS.ok);
    assert.equal(badAS.status.message, 'invalid AS Number format (65101.x)');
    const after = await client.list('bgppeers');
    assert.ok(after.ok);
    assert.equal(after.value.revision, before.value.revision, 'no write happened');
  });

  it('dry runs validate without writing', async () => {
    const { client } = running;
    const revision = (await client.list('ippools'));
    assert.ok(revision.ok);
    const dry = await client.create('ippools', { apiVersion: 'projectcalico.org/v3', kind: 'IPPool', metadata: { name: 'loopbacks-rack-a' }, spec: { cidr: '192.168.200.1/32', disabled: true } }, { dryRun: true });
    assert.ok(dry.ok);
    const now = await client.list('ippools');
    assert.ok(now.ok);
    assert.equal(now.value.items.length, 1);
    assert.equal(now.value.revision, revision.value.revision);
  });

  it('answers a watch as soon as something changes', async () => {
    const { client } = running;
    const list = await client.list('bgpconfigurations');
    assert.ok(list.ok);
    const watching = client.watch(list.value.revision, 10_000);
    const created = await client.create('bgpconfigurations', { apiVersion: 'projectcalico.org/v3', kind: 'BGPConfiguration', metadata: { name: 'default' }, spec: { nodeToNodeMeshEnabled: false } });
    assert.ok(created.ok);
    const events = await watching;
    assert.ok(events.ok);
    assert.deepEqual(events.value.events.map((e) => [e.type, e.kind, e.object.metadata.name]), [['ADDED', 'bgpconfigurations', 'default']]);
  });

  it('a deleted coredns pod comes back on a Ready node with an address from its block', async () => {
    const { client } = running;
    const dns = await client.list('pods', { namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' });
    assert.ok(dns.ok);
    for (const pod of dns.value.items) assert.ok((await client.delete('pods', pod.metadata.name, 'kube-system')).ok);
    const now = await client.list('pods', { namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' });
    assert.ok(now.ok);
    const pods = now.value.items as Pod[];
    assert.equal(pods.length, 2);
    for (const pod of pods) {
      assert.match(pod.metadata.name, /^coredns-66bff467f8-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      assert.equal(pod.spec.nodeName, 'k8s-worker-1');
    }
    assert.deepEqual(pods.map((p) => p.status?.podIP).sort(), ['10.10.230.0', '10.10.230.1']);
  });

  it('a node without heartbeats turns NotReady after the grace period and Ready when they resume', async () => {
    const { client, clock, server } = running;
    const ready = async (name: string) => {
      const node = await client.get('nodes', name);
      assert.ok(node.ok);
      return (node.value as KubeNode).status?.conditions?.find((c) => c.type === 'Ready')?.status;
    };
    assert.equal(await ready('k8s-worker-1'), 'True');
    clock.now += 5_000;
    assert.ok((await client.heartbeat('k8s-master')).ok);
    clock.now += 6_000;
    assert.equal(await ready('k8s-master'), 'True');
    assert.equal(await ready('k8s-worker-1'), 'Unknown');
    assert.equal(server.isReady('k8s-worker-1'), false);
    const beat = await client.heartbeat('k8s-worker-1');
    assert.ok(beat.ok);
    assert.equal(beat.value.ready, true);
    assert.equal(await ready('k8s-worker-1'), 'True');
    const unknown = await client.heartbeat('k8s-worker-9');
    assert.ok(!unknown.ok);
    assert.equal(unknown.status.reason, 'NotFound');
  });

  it('a restart loses nothing', async () => {
    const { client } = running;
    assert.ok((await client.create('bgppeers', peer('rack2-tor1', { peerIP: '10.50.3.1', asNumber: 65102, nodeSelector: "rack == 'rack2'" }))).ok);
    const before = await client.list('pods');
    assert.ok(before.ok);
    await running.server.close();
    const text = readFileSync(join(dir, 'datastore.json'), 'utf8');
    assert.match(text, /rack2-tor1/);
    running = await start(join(dir, 'datastore.json'), running.clock);
    const peers = await running.client.list('bgppeers');
    assert.ok(peers.ok);
    assert.deepEqual(peers.value.items.map((p) => p.metadata.name), ['rack2-tor1']);
    const pods = await running.client.list('pods');
    assert.ok(pods.ok);
    assert.deepEqual(pods.value.items.map((p) => p.metadata.name), before.value.items.map((p) => p.metadata.name));
    assert.equal(pods.value.revision, before.value.revision, 'the revision survives a restart');
  });

  it('refuses unknown paths, bad JSON and bad watch parameters with a Status', async () => {
    const base = running.client.base;
    const res = await fetch(new URL('/api/v1/bgppeers', base), { method: 'POST', body: '{not json', headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 400);
    assert.match(((await res.json()) as { message: string }).message, /^invalid JSON in request body/);
    const unknown = await fetch(new URL('/api/v1/widgets', base));
    assert.equal(unknown.status, 404);
    const watch = await fetch(new URL('/api/v1/watch?since=-1', base));
    assert.equal(watch.status, 400);
    const gone = await running.client.list('pods', { labelSelector: 'k8s-app in (kube-dns' });
    assert.ok(!gone.ok);
    assert.equal(gone.status.reason, 'BadRequest');
  });
});

describe('API server reachability as clients see it', () => {
  it('a refused connection is Unreachable, not a crash', async () => {
    const client = new ApiClient('http://127.0.0.1:1');
    const result = await client.list('nodes');
    assert.ok(!result.ok);
    assert.equal(result.status.reason, 'Unreachable');
    assert.match(result.status.message, /connection refused/);
  });
});
