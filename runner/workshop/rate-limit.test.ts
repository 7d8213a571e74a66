import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenBuckets } from './rate-limit.ts';

test('a bucket allows its burst, then one attempt per refill interval, and says how long to wait', () => {
  const buckets = new TokenBuckets({ capacity: 3, refillPerSecond: 0.5 });
  const t = 1_000_000;
  assert.equal(buckets.take('a', 1, t), 0);
  assert.equal(buckets.take('a', 1, t), 0);
  assert.equal(buckets.take('a', 1, t), 0);
  assert.equal(buckets.take('a', 1, t), 2); // one token every 2 s
  assert.equal(buckets.take('b', 1, t), 0, 'another key has its own bucket');
  assert.equal(buckets.take('a', 1, t + 2_000), 0);
  assert.equal(buckets.take('a', 1, t + 2_000), 2);
});

test('a charge after the fact (a wrong code) drains the bucket further', () => {
  const buckets = new TokenBuckets({ capacity: 20, refillPerSecond: 1 });
  const t = 5_000_000;
  assert.equal(buckets.take('x', 1, t), 0);
  buckets.charge('x', 25, t);
  assert.ok(buckets.take('x', 1, t) > 0);
});
