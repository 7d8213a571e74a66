// The topology the lab target observes in a real lab: `lab fail leaf10 --mode link` shows as
// leaf10 failed, its links down and its BGP sessions no longer Established; `lab restore` brings
// them all back. Waits on the observation's own snapshots, with a deadline; never sleeps.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LabSnapshot } from '../../runner/protocol.ts';
import type { Observation } from '../../runner/target.ts';
import { LabTarget } from '../../runner/targets/lab.ts';
import { labOk } from './lab-support.ts';
import { LAB_WAIT_MS } from '../support/deadlines.ts';

/** Up, BGP converged, a failure seen: each well inside this. */
const DEADLINE_MS = LAB_WAIT_MS;
/** Unique per test process, so that parallel runs never share sandboxes. */
const PREFIX = `tt${process.pid}`.slice(0, 16);
const LEARNER = '7090090000000000000000000000abcd';

describe('lab target: live topology of a real lab', () => {
  const target = new LabTarget({ prefix: PREFIX });
  const sandbox = target.sandbox(LEARNER);
  let observation: Observation | undefined;
  let latest: LabSnapshot | undefined;
  let problem = '';
  const waiters = new Set<() => void>();

  /** Resolves once a snapshot satisfies `test`; fails at the deadline with the last snapshot seen. */
  function until(what: string, test: (s: LabSnapshot) => boolean): Promise<LabSnapshot> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (latest && test(latest)) {
          clearTimeout(timer);
          waiters.delete(check);
          resolve(latest);
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no snapshot with ${what} within ${DEADLINE_MS} ms; last problem: ${problem || 'none'}; last snapshot: ${JSON.stringify(latest)}`));
      }, DEADLINE_MS);
      waiters.add(check);
      check();
    });
  }

  before(() => {
    observation = target.observe(LEARNER, (o) => {
      if (o.ok) latest = o.snapshot;
      else problem = o.message;
      for (const wake of [...waiters]) wake();
    });
  });
  after(async () => {
    observation?.dispose();
    await target.dispose(); // takes the sandbox down (the observer brought it up)
  });

  const leaf10Links = (s: LabSnapshot) => s.links.filter((l) => l.a.startsWith('leaf10:') || l.b.startsWith('leaf10:'));
  const leaf10Sessions = (s: LabSnapshot) => s.sessions.filter((x) => x.a === 'leaf10' || x.b === 'leaf10');

  it('shows leaf10 failing by link and coming back', async () => {
    const healthy = (s: LabSnapshot) =>
      s.devices.find((d) => d.name === 'leaf10')?.state === 'up' &&
      leaf10Links(s).length === 3 &&
      leaf10Links(s).every((l) => l.state === 'up') &&
      leaf10Sessions(s).filter((x) => x.b.startsWith('spine')).length === 0 && // spines are named first
      leaf10Sessions(s).filter((x) => x.a.startsWith('spine')).length === 2 &&
      leaf10Sessions(s).every((x) => x.established);
    const before = await until('leaf10 up, its 3 links up and its spine sessions Established', healthy);
    assert.deepEqual(
      before.devices.filter((d) => d.role !== 'pod').map((d) => `${d.name}:${d.role}:${d.group ?? '-'}`),
      ['spine1:spine:-', 'spine2:spine:-', 'leaf10:leaf:rack1', 'leaf11:leaf:rack1', 'leaf20:leaf:rack2', 'leaf21:leaf:rack2', 'k8s-master:node:rack1', 'k8s-worker-1:node:rack2'],
    );

    await labOk(sandbox, ['fail', 'leaf10', '--mode', 'link']);
    const failed = await until(
      'leaf10 failed, its links down, its sessions not Established',
      (s) =>
        s.devices.find((d) => d.name === 'leaf10')?.state === 'failed' &&
        leaf10Links(s).every((l) => l.state === 'down') &&
        leaf10Sessions(s).length > 0 &&
        leaf10Sessions(s).every((x) => !x.established),
    );
    assert.equal(failed.devices.find((d) => d.name === 'leaf10')?.detail, 'failed (link)');
    // The rest of the fabric stays up.
    assert.ok(failed.sessions.filter((x) => x.a !== 'leaf10' && x.b !== 'leaf10' && x.a.startsWith('spine')).every((x) => x.established));

    await labOk(sandbox, ['restore', 'leaf10']);
    await until('leaf10 back: up, links up, sessions Established', healthy);
  });
});
