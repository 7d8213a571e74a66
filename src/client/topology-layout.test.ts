import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LabDevice, LabSnapshot } from '../../runner/protocol.ts';
import { anchor, endDevice, layoutTopology, sessionLook } from './topology-layout.ts';

/** A dual-TOR fabric of `racks` racks: two spines, two leaves and one node per rack, pods on nodes. */
function fabric(racks: number, order: 'sorted' | 'shuffled' = 'sorted'): LabSnapshot {
  const devices: LabDevice[] = [
    { name: 'spine1', role: 'spine', state: 'up' },
    { name: 'spine2', role: 'spine', state: 'up' },
  ];
  for (let r = 1; r <= racks; r++) {
    devices.push({ name: `leaf${r}0`, role: 'leaf', group: `rack${r}`, state: 'up' });
    devices.push({ name: `leaf${r}1`, role: 'leaf', group: `rack${r}`, state: 'up' });
    devices.push({ name: `k8s-node-${r}`, role: 'node', group: `rack${r}`, state: 'up' });
    devices.push({ name: `default/pod-${r}`, role: 'pod', group: `rack${r}`, parent: `k8s-node-${r}`, state: 'up' });
  }
  return { devices: order === 'shuffled' ? [...devices].reverse() : devices, links: [], sessions: [] };
}

const center = (layout: ReturnType<typeof layoutTopology>, name: string) => {
  const d = layout.devices.get(name);
  assert.ok(d, `${name} is placed`);
  return { x: d.x + d.width / 2, y: d.y };
};

describe('layoutTopology', () => {
  it('puts spines on top, leaves below, nodes under their own rack, pods inside their node', () => {
    const layout = layoutTopology(fabric(2));
    const [s1, l10, l11, n1, l20, n2] = ['spine1', 'leaf10', 'leaf11', 'k8s-node-1', 'leaf20', 'k8s-node-2'].map((n) => center(layout, n));
    assert.ok(s1!.y < l10!.y && l10!.y < n1!.y, 'rows: spine, leaf, node');
    assert.equal(l10!.y, l20!.y);
    assert.ok(l10!.x < n1!.x && n1!.x < l11!.x, 'a node sits between its two TORs');
    assert.ok(n1!.x < l20!.x && l20!.x < n2!.x + layout.devices.get('k8s-node-2')!.width, 'rack2 is right of rack1');
    assert.equal(layout.devices.has('default/pod-1'), false, 'pods are not boxes of their own');
    assert.deepEqual(layout.devices.get('k8s-node-1')!.pods.map((p) => p.name), ['default/pod-1']);
    assert.deepEqual(layout.groups.map((g) => g.name), ['rack1', 'rack2']);
  });

  it('draws a third rack from the data alone, wider, with nothing overlapping', () => {
    const two = layoutTopology(fabric(2));
    const three = layoutTopology(fabric(3, 'shuffled'));
    assert.ok(three.width > two.width);
    assert.deepEqual(three.groups.map((g) => g.name), ['rack1', 'rack2', 'rack3']);
    const boxes = [...three.devices.values()];
    for (const a of boxes) {
      assert.ok(a.x >= 0 && a.x + a.width <= three.width && a.y >= 0 && a.y + a.height <= three.height, `${a.device.name} inside the view`);
      for (const b of boxes) {
        if (a === b) continue;
        const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
        assert.ok(apart, `${a.device.name} and ${b.device.name} do not overlap`);
      }
    }
    // Racks sort naturally: rack10 after rack9, not after rack1.
    const many = layoutTopology(fabric(10));
    assert.deepEqual(many.groups.map((g) => g.name).slice(-2), ['rack9', 'rack10']);
  });

  it('is the same whatever order the devices come in', () => {
    const a = layoutTopology(fabric(2));
    const b = layoutTopology(fabric(2, 'shuffled'));
    for (const [name, placed] of a.devices) assert.deepEqual([placed.x, placed.y], [b.devices.get(name)!.x, b.devices.get(name)!.y], name);
  });

  it('copes with devices without a group or role it knows, and with an empty lab', () => {
    const layout = layoutTopology({
      devices: [{ name: 'router', role: 'other', state: 'up' }, { name: 'leaf', role: 'leaf', state: 'down' }],
      links: [],
      sessions: [],
    });
    assert.ok(center(layout, 'leaf').y < center(layout, 'router').y);
    const empty = layoutTopology({ devices: [], links: [], sessions: [] });
    assert.equal(empty.devices.size, 0);
    assert.ok(empty.width > 0 && empty.height > 0);
  });
});

describe('helpers', () => {
  it('anchors a line from the bottom of the upper box to the top of the lower one', () => {
    const layout = layoutTopology(fabric(1));
    const spine = layout.devices.get('spine1')!;
    const leaf = layout.devices.get('leaf10')!;
    const line = anchor(leaf, spine);
    assert.equal(line.y1, leaf.y);
    assert.equal(line.y2, spine.y + spine.height);
  });

  it('names link ends and colours session states', () => {
    assert.equal(endDevice('leaf10:swp1'), 'leaf10');
    assert.equal(endDevice('leaf10'), 'leaf10');
    assert.equal(sessionLook({ state: 'Established', established: true }), 'established');
    assert.equal(sessionLook({ state: 'Active', established: false }), 'connecting');
    assert.equal(sessionLook({ state: 'Connect', established: false }), 'connecting');
    assert.equal(sessionLook({ state: 'Idle', established: false }), 'down');
    assert.equal(sessionLook({ state: 'down', established: false }), 'down');
  });
});
