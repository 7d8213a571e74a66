// What a catch-up runs (earlier lessons by `order`, then this lesson's earlier steps) and which
// blocks it leaves running for a later block to interrupt.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { catchUpPlan, leftRunning } from './catch-up.ts';
import { indexCourse } from './manifest.ts';
import type { CourseManifest } from './protocol.ts';

const source = { file: 'lessons/x.mdx', line: 1 };
const block = (id: string, terminal = 'a', interrupt = false) => ({ id, terminal, code: 'true\n', interrupt, source });
const manifest: CourseManifest = {
  version: 1,
  lessons: [
    { id: 'two', title: 'Two', order: 2, terminals: [{ name: 'a', title: 'A' }], steps: [
      { id: 'two/x', title: 'X', checks: [], blocks: [block('two/x/1')], lasting: false },
      { id: 'two/y', title: 'Y', checks: [], blocks: [block('two/y/1')] },
    ] },
    { id: 'three', title: 'Three', order: 3, terminals: [{ name: 'a', title: 'A' }], steps: [
      { id: 'three/z', title: 'Z', checks: [], blocks: [block('three/z/1')] },
    ] },
    { id: 'one', title: 'One', order: 1, terminals: [{ name: 'a', title: 'A' }, { name: 'b', title: 'B' }], steps: [
      { id: 'one/probe', title: 'Probe', checks: [], blocks: [block('one/probe/1', 'b'), block('one/probe/2', 'a')] },
      { id: 'one/stop', title: 'Stop', checks: [], blocks: [block('one/stop/1', 'a', true), block('one/stop/2', 'b', true)] },
    ] },
  ],
};
const indexed = indexCourse(manifest, 'test');
if (!indexed.ok) throw new Error(indexed.problems.join('\n'));
const course = indexed.course;

describe('catch-up plan', () => {
  it('runs the earlier lessons in order, whatever the manifest order', () => {
    const plan = catchUpPlan(course, 'two');
    assert.ok(plan.ok);
    assert.deepEqual(plan.plan.steps.map((s) => s.id), ['one/probe', 'one/stop']);
  });

  it('adds this lesson\'s steps before the one asked for', () => {
    const plan = catchUpPlan(course, 'two', 'two/y');
    assert.ok(plan.ok);
    assert.deepEqual(plan.plan.steps.map((s) => s.id), ['one/probe', 'one/stop', 'two/x']);
  });

  it('skips, for a later lesson, an earlier lesson\'s step whose effect does not outlast it; within its lesson, runs it', () => {
    const later = catchUpPlan(course, 'three');
    assert.ok(later.ok);
    assert.deepEqual(later.plan.steps.map((s) => s.id), ['one/probe', 'one/stop', 'two/y']);
    const within = catchUpPlan(course, 'two', 'two/y');
    assert.ok(within.ok);
    assert.deepEqual(within.plan.steps.map((s) => s.id), ['one/probe', 'one/stop', 'two/x']);
  });

  it('names the steps there are when asked for one that is not', () => {
    assert.deepEqual(catchUpPlan(course, 'two', 'two/z'), { ok: false, message: 'Unknown step "two/z" in lesson "two"; its steps: two/x, two/y' });
    assert.deepEqual(catchUpPlan(course, 'four'), { ok: false, message: 'Unknown lesson "four"; this course has: two, three, one' });
  });

  it('leaves running only a block whose terminal\'s next block interrupts it', () => {
    const plan = catchUpPlan(course, 'two', 'two/y');
    assert.ok(plan.ok);
    // one/probe/1 (b) is next followed on b by one/stop/2 (interrupt); one/probe/2 (a) by one/stop/1 (interrupt).
    assert.deepEqual([...leftRunning(plan.plan)].sort(), ['one/probe/1', 'one/probe/2']);
  });
});
