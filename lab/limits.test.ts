import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CPU_MAX, DEFAULT_MEMORY_MAX_BYTES, DEFAULT_PIDS_MAX, nprocPrefix, parseBytes, sandboxLimits } from './limits.ts';

test('sizes are read with binary units', () => {
  assert.equal(parseBytes('1048576'), 1048576);
  assert.equal(parseBytes('768M'), 768 * 1024 ** 2);
  assert.equal(parseBytes('1G'), 1024 ** 3);
  assert.equal(parseBytes('1.5GiB'), 1.5 * 1024 ** 3);
  assert.ok(Number.isNaN(parseBytes('lots')));
});

test('limits come from the environment, else the defaults, and a bad value says which variable', () => {
  assert.deepEqual(sandboxLimits({}), { pidsMax: DEFAULT_PIDS_MAX, memoryMaxBytes: DEFAULT_MEMORY_MAX_BYTES, cpuMax: DEFAULT_CPU_MAX });
  assert.deepEqual(sandboxLimits({ LAB_PIDS_MAX: '256', LAB_MEMORY_MAX: '1G', LAB_CPU_MAX: '0.5' }), { pidsMax: 256, memoryMaxBytes: 1024 ** 3, cpuMax: 0.5 });
  assert.throws(() => sandboxLimits({ LAB_PIDS_MAX: '0' }), /LAB_PIDS_MAX must be a positive number, got "0"/);
  assert.throws(() => sandboxLimits({ LAB_MEMORY_MAX: 'lots' }), /LAB_MEMORY_MAX must be a positive number, got "lots"/);
});

test('the process limit is set soft and hard, so a shell in the sandbox cannot raise it', () => {
  assert.deepEqual(nprocPrefix({ pidsMax: 300, memoryMaxBytes: 1, cpuMax: 1 }), ['prlimit', '--nproc=300:300', '--']);
});
