import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { PROGRESS_DB_FILE, ProgressStore, SCHEMA_VERSION } from './progress-store.ts';

describe('ProgressStore', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'progress-store-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  const freshDir = () => path.join(root, `s${++n}`);

  it('keeps step and block states per learner across reopening', () => {
    const dir = freshDir();
    const store = ProgressStore.open(dir);
    store.putStep('alice', { step: 'l1/s1', state: 'passed', results: [] }, 1000);
    store.putBlock('alice', { block: 'l1/s1/1', state: 'failed', exitCode: 2, durationMs: 12.5, results: [{ check: 'exit-code', passed: false, message: 'exited with 2, expected 0' }] }, 1000);
    store.putStep('bob', { step: 'l1/s1', state: 'failed', results: [{ check: 0, passed: false, message: 'no route' }] }, 2000);
    store.close();
    store.close(); // idempotent

    const again = ProgressStore.open(dir);
    assert.deepEqual(again.steps('alice'), [{ step: 'l1/s1', state: 'passed', results: [], updatedAt: 1000 }]);
    assert.deepEqual(again.blocks('alice'), [
      { block: 'l1/s1/1', state: 'failed', exitCode: 2, durationMs: 12.5, results: [{ check: 'exit-code', passed: false, message: 'exited with 2, expected 0' }] },
    ]);
    assert.equal(again.steps('bob')[0]!.state, 'failed');
    assert.deepEqual(again.steps('carol'), []);
    again.close();
  });

  it('forgets one lesson of one learner on reset, and only that', () => {
    const store = ProgressStore.open(freshDir());
    store.putStep('alice', { step: 'l1/s1', state: 'passed', results: [] });
    store.putStep('alice', { step: 'l10/s1', state: 'passed', results: [] });
    store.putStep('bob', { step: 'l1/s1', state: 'passed', results: [] });
    store.resetLesson('alice', 'l1');
    assert.deepEqual(store.steps('alice').map((s) => s.step), ['l10/s1'], 'l10 is not inside l1');
    assert.equal(store.steps('bob').length, 1);
    store.close();
  });

  it('forgets every step and block of one learner when they clear their progress, and no one else\'s', () => {
    const store = ProgressStore.open(freshDir());
    store.putStep('alice', { step: 'l1/s1', state: 'passed', results: [] });
    store.putBlock('alice', { block: 'l2/s1/1', state: 'passed', results: [] });
    store.putStep('bob', { step: 'l1/s1', state: 'passed', results: [] });
    store.resetProgress('alice');
    assert.deepEqual(store.steps('alice'), []);
    assert.deepEqual(store.blocks('alice'), []);
    assert.equal(store.steps('bob').length, 1);
    store.close();
  });

  it('keeps each terminal\'s last screen across reopening, until the runner forgets it', () => {
    const dir = freshDir();
    const store = ProgressStore.open(dir);
    store.putScreen('alice', 'host', { screen: 'old', running: 'sleep 5' });
    store.putScreen('alice', 'host', { screen: '$ ls\r\nnotes.txt', running: 'sleep 500' });
    store.putScreen('alice', 'leaf10', { screen: 'leaf10# ' });
    store.putScreen('bob', 'host', { screen: 'bob$ ' });
    store.close();
    const again = ProgressStore.open(dir);
    assert.deepEqual(again.screen('alice', 'host'), { screen: '$ ls\r\nnotes.txt', running: 'sleep 500' });
    assert.deepEqual(again.screen('alice', 'leaf10'), { screen: 'leaf10# ' });
    again.deleteScreens('alice', 'host');
    assert.equal(again.screen('alice', 'host'), undefined);
    again.deleteScreens('alice');
    assert.equal(again.screen('alice', 'leaf10'), undefined);
    assert.deepEqual(again.screen('bob', 'host'), { screen: 'bob$ ' });
    again.close();
  });

  it('refuses a file that is not a database, naming it and leaving it as it is', () => {
    const dir = freshDir();
    ProgressStore.open(dir).close();
    const file = path.join(dir, PROGRESS_DB_FILE);
    rmSync(file);
    const junk = 'not sqlite at all, just some text that goes on for a while. '.repeat(200);
    writeFileSync(file, junk);
    assert.throws(() => ProgressStore.open(dir), {
      name: 'ProgressStoreError',
      message: `The progress database ${file} is unusable: file is not a database. It is left as it is; move it away to start with empty progress, or restore it from a backup.`,
    });
    assert.equal(readFileSync(file, 'utf8'), junk);
  });

  it('refuses a database made by a newer runner', () => {
    const dir = freshDir();
    ProgressStore.open(dir).close();
    const db = new DatabaseSync(path.join(dir, PROGRESS_DB_FILE));
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => ProgressStore.open(dir), new RegExp(`its schema version ${SCHEMA_VERSION + 1} is newer than this runner's ${SCHEMA_VERSION}; use a newer runner`));
  });

  it('keeps an admitted learner admitted across a reopen, and no one else', () => {
    const dir = freshDir();
    const store = ProgressStore.open(dir);
    assert.equal(store.isAdmitted('a'.repeat(32)), false);
    store.admit('a'.repeat(32));
    store.close();
    const again = ProgressStore.open(dir);
    assert.equal(again.isAdmitted('a'.repeat(32)), true);
    assert.equal(again.isAdmitted('b'.repeat(32)), false);
    again.close();
  });

  it('keeps its database to the runner alone (0600) in a new directory of its own (0700)', () => {
    const dir = path.join(freshDir(), 'state');
    ProgressStore.open(dir).close();
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(path.join(dir, PROGRESS_DB_FILE)).mode & 0o777, 0o600);
  });

  it('refuses a state directory it cannot create', () => {
    const file = path.join(root, 'a-file');
    writeFileSync(file, '');
    assert.throws(() => ProgressStore.open(path.join(file, 'state')), /^ProgressStoreError: Cannot create the state directory .*a-file\/state: /);
  });
});
