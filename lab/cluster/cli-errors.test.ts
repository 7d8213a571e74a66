// Bad input to kubectl and calicoctl: the real tools' messages on stderr, exit code 1, and nothing
// changed in the datastore (its revision stays the same).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { calicoctl, golden, kubectl, startCluster, type CliRun, type TestCluster } from './test-support.ts';

const peerDoc = (spec: string, name = 'rack1-tor1') =>
  `apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: ${name}\nspec:\n${spec}`;

describe('bad input changes nothing and gets the real message', () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startCluster();
    // A peer that exists, for the "already exists" cases.
    assert.equal((await kubectl(cluster, ['apply', '-f', '-'], { stdin: golden('09-apply-peers.stdin.yaml') })).code, 0);
    assert.equal((await kubectl(cluster, ['label', 'node', 'k8s-master', 'rack=rack1'])).code, 0);
  });
  after(async () => {
    await cluster.close();
  });

  const revision = async () => {
    const list = await cluster.client.list('nodes');
    assert.ok(list.ok);
    return list.value.revision;
  };

  const cases: Array<[string, (c: TestCluster) => Promise<CliRun>, string]> = [
    ['kubectl: unknown resource type', (c) => kubectl(c, ['get', 'widgets']), 'error: the server doesn\'t have a resource type "widgets"\n'],
    ['kubectl: missing node', (c) => kubectl(c, ['get', 'node', 'k8s-worker-9']), 'Error from server (NotFound): nodes "k8s-worker-9" not found\n'],
    ['kubectl: missing pod', (c) => kubectl(c, ['get', 'po', 'nope', '-n', 'kube-system']), 'Error from server (NotFound): pods "nope" not found\n'],
    ['kubectl: label without --overwrite', (c) => kubectl(c, ['label', 'node', 'k8s-master', 'rack=rack2']), "error: 'rack' already has a value (rack1), and --overwrite is false\n"],
    ['kubectl: label of a missing node', (c) => kubectl(c, ['label', 'node', 'nope', 'rack=rack2']), 'Error from server (NotFound): nodes "nope" not found\n'],
    ['kubectl: unknown flag', (c) => kubectl(c, ['get', 'nodes', '--colour']), "Error: unknown flag: --colour\nSee 'kubectl get --help' for usage.\n"],
    ['kubectl: unknown output format', (c) => kubectl(c, ['get', 'nodes', '-o', 'table']), 'error: unable to match a printer suitable for the output format "table", allowed formats are: json,name,wide,yaml\n'],
    ['kubectl: invalid YAML', (c) => kubectl(c, ['apply', '-f', '-'], { stdin: 'kind: BGPPeer\n  metadata: x\n' }), 'error: error parsing STDIN: error converting YAML to JSON: yaml: line 2: mapping values are not allowed in this context\n'],
    ['kubectl: unknown kind', (c) => kubectl(c, ['apply', '-f', '-'], { stdin: 'apiVersion: projectcalico.org/v3\nkind: BGPFilter\nmetadata:\n  name: x\n' }), 'error: unable to recognize "STDIN": no matches for kind "BGPFilter" in version "projectcalico.org/v3"\n'],
    ['kubectl: kind not set', (c) => kubectl(c, ['apply', '-f', '-'], { stdin: 'apiVersion: v1\nmetadata:\n  name: x\n' }), 'error: error validating "STDIN": error validating data: kind not set; if you choose to ignore these errors, turn validation off with --validate=false\n'],
    ['kubectl: invalid BGPPeer (with a valid one before it: nothing is applied)', (c) => kubectl(c, ['apply', '-f', '-'], { stdin: `${peerDoc('  peerIP: 10.50.9.1\n  asNumber: 65101\n', 'rack9-tor1')}\n---\n${peerDoc('  peerIP: 10.50.1.1:x\n  asNumber: 65101\n  node: k8s-master\n  nodeSelector: all()\n', 'rack9-tor2')}` }),
      'The BGPPeer "rack9-tor2" is invalid: \n' +
      '* PeerIP: Invalid value: "10.50.1.1:x": Reason: failed to validate Field: PeerIP because of Tag: IP:port \n' +
      '* Node: Invalid value: "k8s-master": Node field must be empty when NodeSelector is specified\n'],
    ['kubectl: delete of a missing peer', (c) => kubectl(c, ['delete', 'bgppeer', 'nope']), 'Error from server (NotFound): bgppeers.projectcalico.org "nope" not found\n'],
    ['calicoctl: invalid YAML', (c) => calicoctl(c, ['apply', '-f', '-'], { stdin: 'apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n\tname: x\n' }),
      'Failed to execute command: error converting YAML to JSON: yaml: line 4: found character that cannot start any token\n'],
    ['calicoctl: unsupported type', (c) => calicoctl(c, ['get', 'widgets']), "Failed to get resources: resource type 'widgets' is not supported\n"],
    ['calicoctl: missing peer', (c) => calicoctl(c, ['get', 'bgppeer', 'nope']), 'resource does not exist: BGPPeer(nope) with error: bgppeers.crd.projectcalico.org "nope" not found\n'],
    ['calicoctl: unknown output', (c) => calicoctl(c, ['get', 'nodes', '-o', 'table']), "unrecognized output format 'table'\n"],
    ['calicoctl: invalid option', (c) => calicoctl(c, ['get', 'nodes', '--colour']), "Invalid option: 'calicoctl get nodes --colour'. Use flag '--help' to read about a specific subcommand.\n"],
    ['calicoctl: invalid peer', (c) => calicoctl(c, ['apply', '-f', '-'], { stdin: peerDoc('  peerIP: x\n  asNumber: 65101\n', 'rack9-tor1') }),
      "Failed to apply 'BGPPeer' resource: [error with field PeerIP = 'x' (Reason: failed to validate Field: PeerIP because of Tag: IP:port )]\n"],
    ['calicoctl: several invalid fields', (c) => calicoctl(c, ['apply', '-f', '-'], { stdin: peerDoc('  peerIP: x\n  node: k8s-master\n  nodeSelector: all()\n', 'rack9-tor1') }),
      "Failed to apply 'BGPPeer' resource: [error with the following fields:\n-  PeerIP = 'x' (Reason: failed to validate Field: PeerIP because of Tag: IP:port )\n-  Node = 'k8s-master' (Node field must be empty when NodeSelector is specified)\n]\n"],
    ['calicoctl: two peers, one invalid: nothing applied', (c) => calicoctl(c, ['apply', '-f', '-'], { stdin: `${peerDoc('  peerIP: 10.50.9.1\n', 'rack9-tor1')}\n---\n${peerDoc('  peerIP: 10.50.9.2\n  restartMode: Forever\n', 'rack9-tor2')}` }),
      "Failed to apply any 'BGPPeer' resources: [error with field RestartMode = 'Forever' (Reason: failed to validate Field: RestartMode because of Tag: oneof )]\n"],
    ['calicoctl: unknown field', (c) => calicoctl(c, ['apply', '-f', '-'], { stdin: peerDoc('  peerIPs: 10.50.9.1\n', 'rack9-tor1') }),
      'Failed to execute command: error unmarshaling JSON: json: unknown field "peerIPs"\n'],
    ['calicoctl: bad AS number', (c) => calicoctl(c, ['apply', '-f', '-'], { stdin: peerDoc('  peerIP: 10.50.9.1\n  asNumber: 65101.x\n', 'rack9-tor1') }),
      'Failed to execute command: error unmarshaling JSON: invalid AS Number format (65101.x)\n'],
    ['calicoctl: unknown kind', (c) => calicoctl(c, ['apply', '-f', '-'], { stdin: 'apiVersion: projectcalico.org/v3\nkind: Widget\nmetadata:\n  name: x\n' }),
      'Failed to execute command: Unknown resource type (Widget) and/or version (projectcalico.org/v3)\n'],
    ['calicoctl: create of an existing peer', (c) => calicoctl(c, ['create', '-f', '-'], { stdin: peerDoc('  peerIP: 10.50.1.1\n  asNumber: 65101\n') }),
      "Failed to create 'BGPPeer' resource: [resource already exists: BGPPeer(rack1-tor1)]\n"],
    ['calicoctl: delete of a missing peer', (c) => calicoctl(c, ['delete', 'bgppeer', 'nope']),
      "Failed to delete 'BGPPeer' resource: resource does not exist: BGPPeer(nope) with error: bgppeers.crd.projectcalico.org \"nope\" not found\n"],
    ['calicoctl: patch of a missing node', (c) => calicoctl(c, ['patch', 'node', 'foo', '-p', '{"spec":{"bgp":{"asNumber":"65101"}}}']),
      'Hit error: resource does not exist: Node(foo) with error: nodes "foo" not found\n'],
    ['calicoctl: patch with a bad AS number', (c) => calicoctl(c, ['patch', 'node', 'k8s-master', '-p', '{"spec":{"bgp":{"asNumber":"sixty"}}}']),
      'Hit error: creating resource from patched data: error unmarshaling JSON: invalid AS Number format (sixty)\n'],
    ['calicoctl: patch with a bad address', (c) => calicoctl(c, ['patch', 'node', 'k8s-master', '-p', '{"spec":{"bgp":{"ipv4Address":"192.168.200.300/32"}}}']),
      "Hit error: updating existing resource: error with field IPv4Address = '192.168.200.300/32' (Reason: failed to validate Field: IPv4Address because of Tag: cidrv4 )\n"],
    ['calicoctl: the BGPConfiguration mesh setting on a per-node configuration', (c) => calicoctl(c, ['apply', '-f', '-'], { stdin: 'apiVersion: projectcalico.org/v3\nkind: BGPConfiguration\nmetadata:\n  name: node.k8s-master\nspec:\n  nodeToNodeMeshEnabled: false\n' }),
      "Failed to apply 'BGPConfiguration' resource: [error with field BGPConfigurationSpec.NodeToNodeMeshEnabled = 'false' (Cannot set nodeToNodeMeshEnabled on a non default BGP Configuration.)]\n"],
    ['calicoctl: an enabled pool smaller than a block', (c) => calicoctl(c, ['apply', '-f', '-'], { stdin: 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: loopbacks-rack-a\nspec:\n  cidr: 192.168.200.1/32\n' }),
      "Failed to apply 'IPPool' resource: [error with field IPpool.CIDR = '192.168.200.1/32' (IP pool size is too small for use with Calico IPAM. It must be equal to or greater than the block size.)]\n"],
  ];

  for (const [name, run, stderr] of cases) {
    it(name, async () => {
      const before = await revision();
      const result = await run(cluster);
      assert.equal(result.stderr, stderr);
      assert.equal(result.code, 1);
      assert.equal(result.stdout, '');
      assert.equal(await revision(), before, 'the datastore did not change');
    });
  }
});

describe('an unreachable API server', () => {
  it('kubectl and calicoctl say so', async () => {
    const cluster = await startCluster();
    await cluster.close();
    const k = await kubectl(cluster, ['get', 'nodes']);
    assert.deepEqual([k.code, k.stderr], [1, `The connection to the server ${cluster.client.base.host} was refused - did you specify the right host or port?\n`]);
    const c = await calicoctl(cluster, ['get', 'nodes']);
    assert.equal(c.code, 1);
    assert.match(c.stderr, /^Failed to create Calico API client: .*connection refused\n$/);
  });
});
