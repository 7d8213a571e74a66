// The live topology through a real runner: a target that observes a scripted lab, pages that
// watch it over the WebSocket. The lab is observed only while a page watches, once per learner
// however many pages, and what changes reaches every watching page with the change spelled out.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LabSnapshot, ServerMessage, TopologyMessage } from '../../runner/protocol.ts';
import type { LabObservation, Observation } from '../../runner/target.ts';
import { LocalShellTarget } from '../../runner/targets/local-shell.ts';
import { newLearner, startFixture, TestPage, type Fixture } from './runner-harness.ts';

/** A local shell target whose "lab" is whatever the test pushes, with every observation recorded. */
class ScriptedLabTarget extends LocalShellTarget {
  readonly observations: { learner: string; listener: (o: LabObservation) => void; disposed: boolean }[] = [];
  override get observe() {
    return (learner: string, listener: (o: LabObservation) => void): Observation => {
      const entry = { learner, listener, disposed: false };
      this.observations.push(entry);
      return { dispose: () => void (entry.disposed = true) };
    };
  }
  live(learner: string) {
    return this.observations.filter((o) => o.learner === learner && !o.disposed);
  }
  push(learner: string, snapshot: LabSnapshot): void {
    for (const o of this.live(learner)) o.listener({ ok: true, snapshot });
  }
}

function lab(session = 'Established', link: 'up' | 'down' = 'up'): LabSnapshot {
  return {
    devices: [
      { name: 'spine1', role: 'spine', state: 'up' },
      { name: 'leaf10', role: 'leaf', group: 'rack1', state: link === 'up' ? 'up' : 'failed' },
      { name: 'k8s-master', role: 'node', group: 'rack1', state: 'up' },
    ],
    links: [{ a: 'leaf10:swp3', b: 'k8s-master:enp0s8', state: link }],
    sessions: [{ a: 'leaf10', b: 'k8s-master', protocol: 'bgp', state: session, established: session === 'Established' }],
  };
}

const isTopology = (m: ServerMessage): m is TopologyMessage => m.type === 'topology';

describe('runner: live topology', () => {
  let fixture: Fixture;
  let target: ScriptedLabTarget;
  before(async () => {
    fixture = await startFixture(undefined, undefined, (stateDir) => (target = new ScriptedLabTarget({ stateDir })));
  });
  after(async () => {
    await fixture.dispose();
  });

  it('observes nothing until a page watches, once for all pages, and stops with the last one', async () => {
    const auth = await newLearner(fixture.runner);
    const first = await TestPage.open(fixture.runner, auth);
    const second = await TestPage.open(fixture.runner, auth);
    assert.equal(target.live(auth.learner).length, 0, 'no observation for pages that do not watch');

    first.send({ type: 'watch-topology' });
    second.send({ type: 'watch-topology' });
    await first.waitFor(isTopology, 'first topology frame');
    await second.waitFor(isTopology, 'first topology frame');
    assert.equal(target.live(auth.learner).length, 1, 'one observation however many pages');

    target.push(auth.learner, lab());
    for (const page of [first, second]) {
      const frame = await page.waitFor((m): m is TopologyMessage => isTopology(m) && m.snapshot !== null, 'a snapshot');
      assert.equal(frame.snapshot!.sessions[0]!.state, 'Established');
    }
    const before = first.messages.length;
    target.push(auth.learner, lab()); // the same lab again: nothing to send
    target.push(auth.learner, lab('Active', 'down'));
    const change = await first.waitFor((m): m is TopologyMessage => isTopology(m) && m.changes.length > 0, 'a change', before);
    assert.equal(first.messages.slice(before).filter(isTopology).length, 1, 'a repeated snapshot is not forwarded');
    assert.deepEqual(
      change.changes.map((c) => `${c.subject}: ${c.from} → ${c.to}`),
      ['leaf10: up → failed', 'leaf10:swp3 — k8s-master:enp0s8: up → down', 'leaf10 → k8s-master BGP: Established → Active'],
    );

    // A page that does not watch keeps the learner connected: it is the watchers that count.
    const bystander = await TestPage.open(fixture.runner, auth);
    first.ws.close();
    await bystander.until(() => first.ws.readyState === first.ws.CLOSED, 'the first page to close');
    assert.equal(target.live(auth.learner).length, 1, 'the observation stays for the other page');
    second.ws.close();
    await bystander.until(() => target.live(auth.learner).length === 0, 'the observation to stop with the last watching page');
    assert.equal(target.observations.filter((o) => o.learner === auth.learner).length, 1);
    bystander.ws.close();
  });

  it('a page that starts watching later gets the lab and the changes so far at once', async () => {
    const auth = await newLearner(fixture.runner);
    const watcher = await TestPage.open(fixture.runner, auth);
    watcher.send({ type: 'watch-topology' });
    await watcher.waitFor(isTopology, 'first frame');
    target.push(auth.learner, lab());
    target.push(auth.learner, lab('Idle'));
    await watcher.waitFor((m): m is TopologyMessage => isTopology(m) && m.changes.length === 1, 'the change');

    const late = await TestPage.open(fixture.runner, auth);
    late.send({ type: 'watch-topology' });
    const frame = await late.waitFor(isTopology, 'the current lab');
    assert.equal(frame.snapshot?.sessions[0]?.state, 'Idle');
    assert.equal(frame.changes.at(-1)?.to, 'Idle');
    watcher.ws.close();
    late.ws.close();
  });

  it('says why there is no lab to show', async () => {
    const auth = await newLearner(fixture.runner);
    const page = await TestPage.open(fixture.runner, auth);
    page.send({ type: 'watch-topology' });
    await page.waitFor(isTopology, 'first frame');
    for (const o of target.live(auth.learner)) o.listener({ ok: false, message: 'the lab is starting' });
    const frame = await page.waitFor((m): m is TopologyMessage => isTopology(m) && m.unavailable === 'the lab is starting', 'unavailable');
    assert.equal(frame.snapshot, null);
    page.ws.close();
  });
});
