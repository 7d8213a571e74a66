import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { labStatusToSnapshot, parseLabStatus, type LabStatus } from './lab-snapshot.ts';

const frr = (running = true) => ['zebra', 'bgpd', 'bfdd', 'staticd'].map((name) => ({ name, running }));

/** The shape `lab status --json` prints (lab/status.ts), cut to one spine, two leaves and a node. */
function status(): LabStatus {
  return {
    devices: [
      { name: 'spine1', kind: 'spine', state: 'up', daemons: frr(), pods: [] },
      { name: 'leaf10', kind: 'leaf', rack: 'rack1', state: 'failed (link)', daemons: frr(), pods: [] },
      { name: 'leaf11', kind: 'leaf', rack: 'rack1', state: 'up', daemons: frr(), pods: [] },
      {
        name: 'k8s-master', kind: 'node', rack: 'rack1', state: 'up', ready: false, daemons: [{ name: 'bird', running: true }],
        pods: [{ pod: 'default/nginx-rack1', present: true }],
      },
    ],
    links: [
      { id: 'leaf10:swp1--spine1:swp1', a: 'down', b: 'no-carrier', failed: false },
      { id: 'leaf11:swp1--spine1:swp2', a: 'up', b: 'up', failed: false },
    ],
    sessions: [
      { device: 'spine1', peer: 'swp1', state: 'Idle', peerDevice: 'leaf10' },
      { device: 'leaf10', peer: 'swp1', state: 'Idle', peerDevice: 'spine1' },
      { device: 'spine1', peer: 'swp2', state: 'Established', peerDevice: 'leaf11' },
      { device: 'leaf11', peer: 'swp1', state: 'Established', peerDevice: 'spine1' },
      { device: 'leaf11', peer: '10.50.2.10', state: 'Established', peerDevice: 'k8s-master' },
      { device: 'k8s-master', peer: 'Node_10_50_2_1', state: 'Established', peerDevice: 'leaf11' },
      { device: 'k8s-master', peer: 'Node_10_50_1_1', state: 'Active Socket: Network is unreachable', peerDevice: 'leaf10' },
      { device: 'k8s-master', peer: 'Global_10_9_9_9', state: 'Active', peerDevice: null },
    ],
  };
}

describe('labStatusToSnapshot', () => {
  const snapshot = labStatusToSnapshot(status());

  it('gives devices their role, rack and state; pods hang off their node', () => {
    assert.deepEqual(
      snapshot.devices.map((d) => [d.name, d.role, d.group ?? '-', d.state, d.parent ?? '-']),
      [
        ['spine1', 'spine', '-', 'up', '-'],
        ['leaf10', 'leaf', 'rack1', 'failed', '-'],
        ['leaf11', 'leaf', 'rack1', 'up', '-'],
        ['k8s-master', 'node', 'rack1', 'notready', '-'],
        ['default/nginx-rack1', 'pod', 'rack1', 'up', 'k8s-master'],
      ],
    );
    assert.equal(snapshot.devices[1]!.detail, 'failed (link)');
  });

  it('makes a link down unless both ends are up', () => {
    assert.deepEqual(snapshot.links.map((l) => [l.a, l.b, l.state]), [
      ['leaf10:swp1', 'spine1:swp1', 'down'],
      ['leaf11:swp1', 'spine1:swp2', 'up'],
    ]);
  });

  it('makes one session per pair of devices, upper tier first, established only if every end says so', () => {
    assert.deepEqual(snapshot.sessions.map((s) => [s.a, s.b, s.state, s.established]), [
      ['spine1', 'leaf10', 'Idle', false],
      ['spine1', 'leaf11', 'Established', true],
      ['leaf11', 'k8s-master', 'Established', true],
      ['leaf10', 'k8s-master', 'Active', false],
    ]);
    assert.equal(snapshot.sessions[3]!.detail, 'k8s-master: Active Socket: Network is unreachable');
  });

  it('parses a line and says what is wrong with a bad one', () => {
    assert.equal(parseLabStatus(JSON.stringify(status())).ok, true);
    const bad = parseLabStatus('{"devices": 3}');
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.match(bad.message, /unexpected shape: devices: /);
    const notJson = parseLabStatus('lab: Sandbox "x" is not running');
    assert.equal(notJson.ok, false);
    if (!notJson.ok) assert.match(notJson.message, /not JSON/);
  });
});
