import assert from 'node:assert/strict';
import { test } from 'node:test';
import { indexCourse } from '../manifest.ts';
import { csvCell, resultsCsv, resultsJson } from './export.ts';
import { secretHash } from '../secret.ts';

const manifest = {
  version: 1,
  lessons: [
    {
      id: 'one',
      title: 'One',
      order: 1,
      terminals: [{ name: 'shell', title: 'Shell' }],
      steps: [
        { id: 'one/a', title: 'A', blocks: [], checks: [] },
        { id: 'one/b', title: 'B', blocks: [], checks: [] },
      ],
    },
  ],
};

test('CSV cells are quoted as RFC 4180 says, and never start a formula', () => {
  assert.equal(csvCell('plain'), 'plain');
  assert.equal(csvCell('a,b'), '"a,b"');
  assert.equal(csvCell('say "hi"'), '"say ""hi"""');
  assert.equal(csvCell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
  assert.equal(csvCell('-1'), "'-1");
  assert.equal(csvCell(-1), '-1');
});

test('results have one column per step of the course and a passed count per learner', () => {
  const indexed = indexCourse(manifest, 'test');
  assert.ok(indexed.ok);
  const workshop = { id: 'w', name: 'Room', code: 'ABCDEF', secretHash: secretHash('s'), startedAt: 0, endsAt: null, locked: [] };
  const record = { learner: 'l', seat: 'seat1', name: 'Ada, K.', joinedAt: 1000, lastSeenAt: 2000 };
  const json = resultsJson(workshop, indexed.course, [{ record, steps: [{ step: 'one/a', state: 'passed', results: [], updatedAt: 1500 }] }], 3000);
  assert.deepEqual(json.steps.map((s) => s.id), ['one/a', 'one/b']);
  assert.equal(json.learners[0]!.passed, 1);
  assert.deepEqual(json.learners[0]!.steps['one/b'], { state: 'idle', at: null });
  assert.equal(
    resultsCsv(json),
    'name,seat,joined_at,last_seen_at,passed,one/a,one/b\r\n' + '"Ada, K.",seat1,1970-01-01T00:00:01.000Z,1970-01-01T00:00:02.000Z,1,passed,idle\r\n',
  );
});
