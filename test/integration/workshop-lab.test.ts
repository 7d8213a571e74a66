// A workshop on the lab target: a learner's lab is a sandbox of its own; labs outlive a runner
// killed with SIGKILL; after the restart, resetting a learner's lab takes down the old one (which the
// new runner never held), and the lab of a learner who never came back goes when the workshop
// stops, so nothing is left on the host.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { join, ScriptedInstructor, ScriptedLearner } from '../support/workshop-client.ts';
import { startWorkshop, type WorkshopProcess } from '../support/workshop-runner.ts';
import { LAB_BIN, REPO } from './lab-support.ts';
import { LAB_WAIT_MS, LAB_TEST_TIMEOUT_MS } from '../support/deadlines.ts';

const PORT = 47_241;
const state = fs.mkdtempSync(path.join(os.tmpdir(), 'workshop-lab-'));
const labState = fs.mkdtempSync(path.join(os.tmpdir(), 'workshop-lab-sandboxes-'));
const running: WorkshopProcess[] = [];
const env = { ...process.env, LAB_STATE_DIR: labState };
const list = () => execFileSync(LAB_BIN, ['list'], { env, encoding: 'utf8' }).split('\n').filter(Boolean);

after(async () => {
  for (const w of running) await w.stop();
  for (const name of list()) execFileSync(LAB_BIN, ['--sandbox', name, 'down'], { env });
  fs.rmSync(state, { recursive: true, force: true });
  fs.rmSync(labState, { recursive: true, force: true });
});

test('workshop labs: one sandbox per learner; after a SIGKILL and a restart, a reset and the stop take down the labs the runner never held', { timeout: LAB_TEST_TIMEOUT_MS }, async () => {
  process.env.LAB_STATE_DIR = labState; // inherited by the workshop runner and its lab commands
  const args = ['--name', 'Lab room', '--target', 'lab', '--port', String(PORT), '--state', state, '--unlocked', 'all'];
  const first = await startWorkshop(args, path.join(state, 'runner.log'));
  running.push(first);
  const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'dist', 'course-manifest.json'), 'utf8')) as { lessons: { id: string; steps: { id: string; blocks: { id: string }[] }[] }[] };
  const step = manifest.lessons.find((l) => l.id === '00-welcome')!.steps[0]!;
  const sandboxes: Record<string, string> = {};
  for (const name of ['Ivy Lab', 'Jay Lab']) {
    const cookie = await join(first.base, first.code, name);
    const page = await ScriptedLearner.connect(first.base, cookie, '00-welcome');
    assert.equal((await page.runStep(step, LAB_WAIT_MS)).state, 'passed');
    sandboxes[name] = `ws-${cookie.replace('learner=', '').slice(0, 16)}`;
    page.close();
  }
  assert.deepEqual(list(), Object.values(sandboxes).sort());

  await first.stop('SIGKILL');
  assert.deepEqual(list(), Object.values(sandboxes).sort(), 'labs outlive a crashed runner');
  const second = await startWorkshop(args, path.join(state, 'runner.log'));
  running.push(second);
  assert.equal(second.code, first.code);

  // Resetting Ivy's lab takes down the lab the new runner never held.
  // The key printed at the first start: the resumed workshop prints none (it keeps only the key's hash).
  const instructor = await ScriptedInstructor.connect(second.base, first.key);
  const ivy = (await instructor.learners()).find((l) => l.name === 'Ivy Lab')!;
  const done = instructor.inbox.next((m) => (m.type === 'done' && m.action === 'reset-lab') || m.type === 'error', LAB_WAIT_MS, 'the reset');
  instructor.send({ type: 'reset-lab', seat: ivy.seat });
  assert.equal((await done).type, 'done');
  assert.deepEqual(list(), [sandboxes['Jay Lab']]);
  instructor.close();

  await second.stop('SIGTERM');
  assert.equal(second.child.exitCode, 0);
  assert.deepEqual(list(), [], 'the workshop took the lab of a learner who never came back down');
});
