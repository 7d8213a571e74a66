// `lab up --wait` means the lab is ready for a learner's first command: with the cluster's services,
// each node runs the BIRD configuration calico-node rendered and its sessions (the node-to-node mesh
// of a fresh lab) are Established; and a lab with a failure in effect is not waited on, since its
// sessions through the failed device stay down on purpose.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { labExec, labOk, teardown, uniqueSandbox } from './lab-support.ts';
import { LAB_WAIT_MS } from '../support/deadlines.ts';

describe('lab up --wait', () => {
  const sandbox = uniqueSandbox('upwait');
  after(() => teardown(sandbox));

  test('returns once the mesh is Established, so the first node status shows it', async () => {
    const output = await labOk(sandbox, ['up', '--wait'], LAB_WAIT_MS);
    assert.match(output, /^nodes: 2 BGP sessions Established /m);
    // No poll here on purpose: the point is that nothing is left to wait for.
    const status = await labExec(sandbox, 'k8s-master', ['sudo', 'calicoctl', 'node', 'status']);
    assert.match(status.stdout, /\| 192\.168\.201\.1 \| node-to-node mesh \| up +\| [0-9:]+ \| Established \|/);
  });

  test('with --progress, says the plan and then each phase as it ends, one JSON object a line', async () => {
    const output = await labOk(sandbox, ['up', '--wait', '--progress'], LAB_WAIT_MS);
    const lines = output.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const plan = lines[0]?.plan as Array<{ phase: string }>;
    assert.deepEqual(plan.map((p) => p.phase), ['sandbox', 'devices', 'services', 'fabric', 'nodes']);
    const ended = lines.filter((line) => line.state === 'done').map((line) => line.phase);
    assert.deepEqual(ended, ['sandbox', 'devices', 'services', 'fabric', 'nodes']);
    assert.ok(lines.some((line) => typeof line.log === 'string'), 'the usual lines come as {"log": …}');
  });

  test('does not wait for sessions a failure keeps down', async () => {
    await labOk(sandbox, ['fail', 'leaf10', '--mode', 'silent']);
    const output = await labOk(sandbox, ['up', '--wait', '--timeout', '20'], LAB_WAIT_MS);
    assert.match(output, /^not waiting for BGP: failures in effect \(leaf10 silent\); lab restore ends them$/m);
    await labOk(sandbox, ['restore']);
  });
});
