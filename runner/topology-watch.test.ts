import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LabSnapshot, ServerMessage } from './protocol.ts';
import type { LabObservation, Target } from './target.ts';
import { diffSnapshots, MAX_RECENT_CHANGES, snapshotKey, TopologyWatch } from './topology-watch.ts';

function lab(overrides: { leaf10?: LabSnapshot['devices'][number]['state']; link?: 'up' | 'down'; session?: string; extraSession?: boolean } = {}): LabSnapshot {
  return {
    devices: [
      { name: 'spine1', role: 'spine', state: 'up' },
      { name: 'leaf10', role: 'leaf', group: 'rack1', state: overrides.leaf10 ?? 'up' },
      { name: 'k8s-master', role: 'node', group: 'rack1', state: 'up' },
    ],
    links: [
      { a: 'leaf10:swp1', b: 'spine1:swp1', state: overrides.link ?? 'up' },
      { a: 'leaf10:swp3', b: 'k8s-master:enp0s8', state: 'up' },
    ],
    sessions: [
      { a: 'leaf10', b: 'k8s-master', protocol: 'bgp', state: overrides.session ?? 'Established', established: (overrides.session ?? 'Established') === 'Established' },
      ...(overrides.extraSession ? [{ a: 'spine1', b: 'leaf10', protocol: 'bgp' as const, state: 'Established', established: true }] : []),
    ],
  };
}

describe('diffSnapshots', () => {
  it('names each device, link and session that changed, with its old and new state', () => {
    const changes = diffSnapshots(lab(), lab({ leaf10: 'failed', link: 'down', session: 'Active' }), 42);
    assert.deepEqual(changes, [
      { kind: 'device', subject: 'leaf10', from: 'up', to: 'failed', at: 42 },
      { kind: 'link', subject: 'leaf10:swp1 — spine1:swp1', from: 'up', to: 'down', at: 42 },
      { kind: 'session', subject: 'leaf10 → k8s-master BGP', from: 'Established', to: 'Active', at: 42 },
    ]);
  });

  it('reports sessions that appear and disappear', () => {
    assert.deepEqual(diffSnapshots(lab(), lab({ extraSession: true }), 1), [{ kind: 'session', subject: 'spine1 → leaf10 BGP', to: 'Established', at: 1 }]);
    assert.deepEqual(diffSnapshots(lab({ extraSession: true }), lab(), 2), [{ kind: 'session', subject: 'spine1 → leaf10 BGP', from: 'Established', at: 2 }]);
  });

  it('finds nothing between equal graphs, in whatever order, and nothing against no previous snapshot', () => {
    const reordered = lab();
    reordered.devices.reverse();
    reordered.links.reverse();
    reordered.links[0] = { ...reordered.links[0]!, a: reordered.links[0]!.b, b: reordered.links[0]!.a };
    assert.deepEqual(diffSnapshots(lab(), reordered, 1), []);
    assert.equal(snapshotKey(lab()), snapshotKey({ ...lab(), devices: [...lab().devices].reverse() }));
    assert.deepEqual(diffSnapshots(null, lab(), 1), []);
  });
});

/** A target whose lab is whatever the test says, counting observations. */
class ScriptedTarget implements Target {
  readonly name = 'scripted';
  listener: ((observation: LabObservation) => void) | undefined;
  started = 0;
  stopped = 0;
  async shell(): Promise<never> {
    throw new Error('not used');
  }
  async exec(): Promise<never> {
    throw new Error('not used');
  }
  async disposeLearner(): Promise<void> {}
  async dispose(): Promise<void> {}
  observe(_learner: string, listener: (observation: LabObservation) => void) {
    this.started++;
    this.listener = listener;
    return {
      dispose: () => {
        this.stopped++;
        this.listener = undefined;
      },
    };
  }
}

class Page {
  readonly frames: ServerMessage[] = [];
  send(message: ServerMessage): void {
    this.frames.push(message);
  }
  get topology() {
    return this.frames.flatMap((f) => (f.type === 'topology' ? [f] : []));
  }
}

describe('TopologyWatch', () => {
  it('observes once per learner while pages watch, forwards changes only, and stops with the last page', () => {
    const target = new ScriptedTarget();
    const watch = new TopologyWatch(target, 'learner', () => {});
    const [one, two] = [new Page(), new Page()];
    assert.equal(target.started, 0, 'nothing is observed before a page watches');
    watch.add(one);
    watch.add(two);
    assert.equal(target.started, 1, 'one observation however many pages');
    assert.equal(one.topology[0]?.snapshot, null);

    target.listener!({ ok: true, snapshot: lab() });
    target.listener!({ ok: true, snapshot: lab() }); // a repeat is dropped
    assert.equal(one.topology.length, 2);
    assert.equal(two.topology.length, 2);
    assert.deepEqual(one.topology[1]!.changes, []);

    target.listener!({ ok: true, snapshot: lab({ session: 'Active' }) });
    const last = one.topology.at(-1)!;
    assert.equal(last.snapshot?.sessions[0]?.state, 'Active');
    assert.deepEqual(last.changes.map((c) => `${c.subject}: ${c.from} → ${c.to}`), ['leaf10 → k8s-master BGP: Established → Active']);

    // A page that comes later gets the current graph and the changes seen so far at once.
    const three = new Page();
    watch.add(three);
    assert.equal(three.topology[0]!.snapshot?.sessions[0]?.state, 'Active');
    assert.equal(three.topology[0]!.changes.length, 1);

    watch.remove(one);
    watch.remove(two);
    assert.equal(target.stopped, 0);
    watch.remove(three);
    assert.equal(target.stopped, 1, 'no observation without a page');
    assert.equal(watch.observing, false);
  });

  it('says why there is no graph, and keeps at most MAX_RECENT_CHANGES changes', () => {
    const target = new ScriptedTarget();
    const watch = new TopologyWatch(target, 'learner', () => {});
    const page = new Page();
    watch.add(page);
    target.listener!({ ok: false, message: 'the lab is starting' });
    assert.equal(page.topology.at(-1)!.unavailable, 'the lab is starting');
    for (let i = 0; i <= MAX_RECENT_CHANGES + 5; i++) target.listener!({ ok: true, snapshot: lab({ session: i % 2 ? 'Active' : 'Established' }) });
    assert.equal(page.topology.at(-1)!.changes.length, MAX_RECENT_CHANGES);
    assert.equal(page.topology.at(-1)!.unavailable, undefined);
    watch.dispose();
    assert.equal(target.stopped, 1);
  });

  it('tells a page when the target has no lab to observe', () => {
    const target: Target = { name: 'local', shell: async () => ({ ok: false, message: '' }), exec: async () => ({ exitCode: 0, output: '', timedOut: false }), disposeLearner: async () => {}, dispose: async () => {} };
    const page = new Page();
    new TopologyWatch(target, 'learner', () => {}).add(page);
    assert.match(page.topology[0]!.unavailable ?? '', /local target has no lab/);
  });
});
