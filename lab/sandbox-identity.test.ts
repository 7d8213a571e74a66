import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { claimSlot, heldSlot, releaseSlot, subordinateRange } from './sandbox-identity.ts';

const root = mkdtempSync(join(tmpdir(), 'sandbox-identity-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('a subordinate range is found by user name or uid, and only a usable one', () => {
  const text = 'alice:100000:65536\nbob:165536:0\n1002:231072:65536\n';
  assert.deepEqual(subordinateRange(text, 'alice', 1000), { start: 100000, count: 65536 });
  assert.equal(subordinateRange(text, 'bob', 1001), undefined, 'a range of no ids is none');
  assert.deepEqual(subordinateRange(text, 'carol', 1002), { start: 231072, count: 65536 });
  assert.equal(subordinateRange(text, 'dave', 1003), undefined);
});

test('each sandbox claims a slot of its own, keeps it, and frees it', () => {
  const alive = () => true;
  assert.equal(claimSlot(root, 'a', 4, alive), 0);
  assert.equal(claimSlot(root, 'b', 4, alive), 1);
  assert.equal(claimSlot(root, 'a', 4, alive), 0, 'a second start of the same sandbox keeps its slot');
  assert.equal(heldSlot(root, 'b'), 1);
  releaseSlot(root, 'a');
  assert.equal(heldSlot(root, 'a'), undefined);
  assert.equal(claimSlot(root, 'c', 4, alive), 0, 'a freed slot is taken again');
  releaseSlot(root, 'b');
  releaseSlot(root, 'c');
});

test('the slot of a sandbox that is gone is taken back, but not one just claimed', () => {
  assert.equal(claimSlot(root, 'gone', 2, () => true), 0);
  assert.equal(claimSlot(root, 'fresh', 2, () => false), 1, 'a young claim is left alone even if its sandbox is not running yet');
  const old = (Date.now() - 10 * 60_000) / 1000;
  utimesSync(join(root, '.ids', '0'), old, old);
  assert.equal(claimSlot(root, 'next', 2, (name) => name !== 'gone'), 0);
  assert.equal(heldSlot(root, 'gone'), undefined);
  assert.throws(() => claimSlot(root, 'third', 2, () => true), /all 2 sandbox identities are in use/);
  releaseSlot(root, 'next');
  releaseSlot(root, 'fresh');
  assert.equal(existsSync(join(root, '.ids', '0')), false);
});
