import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { ProgressStore } from '../progress-store.ts';
import { matchesSecretHash, secretHash } from '../secret.ts';
import { WorkshopStore } from './store.ts';

test('a workshop, its learners, locks and notices survive closing and reopening the database', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'workshop-store-'));
  try {
    const progress = ProgressStore.open(dir);
    let store = WorkshopStore.open(dir);
    assert.equal(store.openWorkshop(), null);
    store.startWorkshop({ id: 'w1', name: 'Room', code: 'ABC234', secretHash: secretHash('sekret'), startedAt: 10, endsAt: 20, locked: ['two'] });
    store.addLearner('w1', { learner: 'a'.repeat(32), seat: 'seat0001', name: 'Ada', joinedAt: 11, lastSeenAt: 11 });
    store.setLocked('w1', []);
    store.addNotice('w1', { id: 'n1', learner: null, kind: 'broadcast', text: 'hello all', at: 12 });
    store.addNotice('w1', { id: 'n2', learner: 'b'.repeat(32), kind: 'hint', text: 'for Bob', at: 13 });
    store.close();

    store = WorkshopStore.open(dir);
    assert.deepEqual(store.openWorkshop(), { id: 'w1', name: 'Room', code: 'ABC234', secretHash: secretHash('sekret'), startedAt: 10, endsAt: 20, locked: [] });
    assert.deepEqual(store.learners('w1').map((l) => l.name), ['Ada']);
    assert.deepEqual(store.notices('w1', 'a'.repeat(32), 10).map((n) => n.id), ['n1'], 'another learner’s hint is not Ada’s');
    // A new workshop closes the old one; its learners stay on record under it.
    store.startWorkshop({ id: 'w2', name: 'Next', code: 'XYZ789', secretHash: secretHash('s2'), startedAt: 30, endsAt: null, locked: [] });
    assert.equal(store.openWorkshop()!.id, 'w2');
    assert.equal(store.learners('w1').length, 1);
    store.close();
    progress.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the instructor key is kept as a hash only, also one a database from before holds in plain text', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'workshop-store-'));
  try {
    const progress = ProgressStore.open(dir);
    let store = WorkshopStore.open(dir);
    store.startWorkshop({ id: 'w1', name: 'Room', code: 'ABC234', secretHash: secretHash('sekret'), startedAt: 10, endsAt: null, locked: [] });
    store.close();
    const db = new DatabaseSync(path.join(dir, 'progress.db'));
    assert.deepEqual(db.prepare('SELECT secret FROM workshops').all().map((r) => r.secret), [secretHash('sekret')]);
    db.prepare('UPDATE workshops SET secret = ?').run('plain-old-key');
    db.close();
    store = WorkshopStore.open(dir);
    const hash = store.openWorkshop()!.secretHash;
    assert.equal(hash, secretHash('plain-old-key'));
    assert.ok(matchesSecretHash('plain-old-key', hash), 'the old key still opens the dashboard');
    assert.ok(!matchesSecretHash('plain-old-kez', hash));
    store.close();
    progress.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
