// Generators and topology normalisation. Golden files in lab/golden/ hold the expected configs;
// regenerate them after an intended change with: UPDATE_GOLDEN=1 npm run test:unit
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { renderBirdConfig } from './bird-config.ts';
import { renderFrrConfig } from './frr-config.ts';
import { normaliseTopology, type TopologyInput } from './topology-schema.ts';
import { DEFAULT_TOPOLOGY_PATH, findDevice, findLink, findPod, loadTopology, type NodeDevice, type Switch } from './topology.ts';

const topology = loadTopology();

function golden(name: string, actual: string): void {
  const path = new URL(`./golden/${name}`, import.meta.url);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(path, actual);
  assert.equal(actual, readFileSync(path, 'utf8'), `lab/golden/${name} differs (UPDATE_GOLDEN=1 to accept)`);
}

function rawTopology(): TopologyInput {
  return parseYaml(readFileSync(DEFAULT_TOPOLOGY_PATH, 'utf8')) as TopologyInput;
}

test('leaf10 FRR config matches the golden file', () => {
  golden('leaf10.frr.conf', renderFrrConfig(findDevice(topology, 'leaf10') as Switch));
});

test('spine1 FRR config matches the golden file', () => {
  golden('spine1.frr.conf', renderFrrConfig(findDevice(topology, 'spine1') as Switch));
});

test('k8s-master BIRD config matches the golden file', () => {
  golden('k8s-master.bird.conf', renderBirdConfig(findDevice(topology, 'k8s-master') as NodeDevice, topology));
});

test('leaves derive listen range, static routes and ports from the topology', () => {
  const leaf20 = findDevice(topology, 'leaf20');
  assert.equal(leaf20.kind, 'leaf');
  if (leaf20.kind !== 'leaf') return;
  assert.equal(leaf20.listenRange, '10.50.3.0/24');
  assert.deepEqual(leaf20.uplinks, ['swp1', 'swp2']);
  assert.deepEqual(leaf20.nodePorts, ['swp3']);
  assert.deepEqual(leaf20.staticRoutes, [{ prefix: '192.168.201.1/32', via: ['10.50.3.10'] }]);
  const config = renderFrrConfig(leaf20);
  assert.match(config, /^ip route 192\.168\.201\.1\/32 10\.50\.3\.10$/m);
  assert.match(config, /^ bgp listen range 10\.50\.3\.0\/24 peer-group K8S-NODES$/m);
  assert.match(config, /^router bgp 65102$/m);
});

test('nodes get ECMP bootstrap routes to other racks, other loopbacks and the switch loopbacks', () => {
  const master = findDevice(topology, 'k8s-master') as NodeDevice;
  assert.equal(master.asn, 65101);
  assert.deepEqual(master.staticRoutes, [
    { prefix: '10.50.3.0/24', via: ['10.50.1.1', '10.50.2.1'] },
    { prefix: '10.50.4.0/24', via: ['10.50.1.1', '10.50.2.1'] },
    { prefix: '192.168.201.1/32', via: ['10.50.1.1', '10.50.2.1'] },
    { prefix: '172.16.255.0/24', via: ['10.50.1.1', '10.50.2.1'] },
  ]);
});

test('pods get Calico veth names and the walkthrough addresses', () => {
  const coredns = topology.pods.filter((p) => p.name.startsWith('coredns-')).map((p) => p.ip).sort();
  assert.deepEqual(coredns, ['10.10.235.193', '10.10.235.195']);
  const pod = findPod(topology.pods, 'default/nginx-rack2');
  assert.ok(pod);
  assert.match(pod.hostIface, /^cali[0-9a-f]{11}$/);
  assert.equal(pod.netns, 'default.nginx-rack2');
  assert.equal(findPod(topology.pods, 'nginx-rack1')?.ip, '10.10.235.197');
});

test('links are found by either end or by id, in either order', () => {
  assert.equal(findLink(topology, 'spine1:swp1')?.id, 'leaf10:swp1--spine1:swp1');
  assert.equal(findLink(topology, 'spine1:swp1--leaf10:swp1')?.id, 'leaf10:swp1--spine1:swp1');
  assert.equal(findLink(topology, 'leaf10:swp9'), undefined);
});

test('a third rack is a data change: leaves, spine ports, routes and listen range follow', () => {
  const raw = rawTopology();
  raw.nodes['leaf30'] = { kind: 'leaf', hostname: 'leaf-sw30', rack: 'rack3', asn: 65103, loopback: '172.16.255.103/32', vlan10: '10.50.5.1/24' };
  raw.nodes['leaf31'] = { kind: 'leaf', hostname: 'leaf-sw31', rack: 'rack3', asn: 65103, loopback: '172.16.255.133/32', vlan10: '10.50.6.1/24' };
  raw.nodes['k8s-worker-2'] = { kind: 'node', rack: 'rack3', loopback: '192.168.202.1/32', podBlock: '10.10.240.0/26', addresses: { enp0s8: '10.50.5.10/24', enp0s9: '10.50.6.10/24' } };
  raw.links.push(['leaf30:swp1', 'spine1:swp5'], ['leaf30:swp2', 'spine2:swp5'], ['leaf31:swp1', 'spine1:swp6'], ['leaf31:swp2', 'spine2:swp6'], ['leaf30:swp3', 'k8s-worker-2:enp0s8'], ['leaf31:swp3', 'k8s-worker-2:enp0s9']);
  const three = normaliseTopology(raw);
  const spine1 = findDevice(three, 'spine1') as Switch;
  assert.match(renderFrrConfig(spine1), /neighbor swp6 interface remote-as external/);
  const leaf31 = renderFrrConfig(findDevice(three, 'leaf31') as Switch);
  assert.match(leaf31, /bgp listen range 10\.50\.6\.0\/24 peer-group K8S-NODES/);
  assert.match(leaf31, /ip route 192\.168\.202\.1\/32 10\.50\.6\.10/);
  const master = findDevice(three, 'k8s-master') as NodeDevice;
  assert.ok(master.staticRoutes.some((r) => r.prefix === '10.50.6.0/24'));
  assert.ok(master.staticRoutes.some((r) => r.prefix === '192.168.202.1/32'));
  assert.match(renderBirdConfig(findDevice(three, 'k8s-worker-2') as NodeDevice, three), /protocol bgp Node_10_50_5_1 from tor/);
});

test('topology errors say what and where, and list what is valid', () => {
  const badLink = rawTopology();
  badLink.links.push(['leaf10:swp4', 'spine9:swp1']);
  assert.throws(() => normaliseTopology(badLink, 'lab/topology.yaml'), {
    message: 'lab/topology.yaml: links[12]: unknown device "spine9"; devices: spine1, spine2, leaf10, leaf11, leaf20, leaf21, k8s-master, k8s-worker-1',
  });
  const reused = rawTopology();
  reused.links.push(['leaf10:swp1', 'spine2:swp9']);
  assert.throws(() => normaliseTopology(reused, 't.yaml'), { message: 't.yaml: links[12]: leaf10:swp1 is already used by links[0]' });
  const badPod = rawTopology();
  badPod.pods!.push({ namespace: 'default', name: 'stray', node: 'k8s-master', ip: '10.10.230.5' });
  assert.throws(() => normaliseTopology(badPod, 't.yaml'), { message: "t.yaml: pods[9] (default/stray): 10.10.230.5 is not in k8s-master's block 10.10.235.192/26" });
  const badSubnet = rawTopology();
  (badSubnet.nodes['k8s-master'] as { addresses: Record<string, string> }).addresses['enp0s8'] = '10.50.9.10/24';
  assert.throws(() => normaliseTopology(badSubnet, 't.yaml'), { message: "t.yaml: nodes.k8s-master.addresses.enp0s8 10.50.9.10/24 is not in leaf10's VLAN10 subnet 10.50.1.0/24" });
  const badField = rawTopology();
  (badField.nodes['spine1'] as Record<string, unknown>)['asn'] = 'many';
  assert.throws(() => normaliseTopology(badField, 't.yaml'), /t\.yaml is not a valid topology:\n {2}nodes\.spine1\.asn: /);
  assert.throws(() => findDevice(topology, 'leaf3'), { message: 'Unknown device "leaf3"; devices: spine1, spine2, leaf10, leaf11, leaf20, leaf21, k8s-master, k8s-worker-1' });
});
