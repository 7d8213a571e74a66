import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSecretHash, matchesSecretHash, sameSecret, secretHash } from './secret.ts';

test('a secret matches itself only, whatever is given', () => {
  assert.ok(sameSecret('abc', 'abc'));
  assert.ok(!sameSecret('abd', 'abc'));
  assert.ok(!sameSecret('ab', 'abc'), 'a prefix');
  assert.ok(!sameSecret(null, 'abc'));
  assert.ok(!sameSecret(undefined, 'abc'));
});

test('a stored hash says nothing of the secret and matches only it', () => {
  const hash = secretHash('instructor-key');
  assert.ok(isSecretHash(hash));
  assert.ok(!hash.includes('instructor-key'));
  assert.ok(matchesSecretHash('instructor-key', hash));
  assert.ok(!matchesSecretHash('instructor-kez', hash));
  assert.ok(!matchesSecretHash(null, hash));
  assert.ok(!matchesSecretHash('instructor-key', 'instructor-key'), 'a plain value is no hash');
});
