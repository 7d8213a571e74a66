import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { indexCourse } from './manifest.ts';
import type { CourseManifest } from './protocol.ts';

const CLI = path.join(import.meta.dirname, 'validate-manifest.ts');

function manifest(): CourseManifest {
  return {
    version: 1,
    lessons: [
      {
        id: 'intro',
        title: 'Intro',
        order: 1,
        terminals: [{ name: 'host', title: 'Host' }],
        steps: [
          {
            id: 'intro/look',
            title: 'Look',
            blocks: [
              { id: 'intro/look/1', terminal: 'host', code: 'ls\n', interrupt: false, expect: 'a\n...\n\\d+ (re)', source: { file: 'lessons/01-intro.mdx', line: 12 } },
            ],
            checks: [{ command: 'true', terminal: 'host', timeoutMs: 1000, intervalMs: 100, description: 'ok', source: { file: 'lessons/01-intro.mdx', line: 20 } }],
          },
        ],
      },
    ],
  };
}

describe('validate-manifest CLI', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'validate-manifest-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const run = (value: unknown, name = 'm.json') => {
    const file = path.join(dir, name);
    writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
    return spawnSync(process.execPath, [CLI, file], { encoding: 'utf8' });
  };

  it('accepts a valid manifest', () => {
    const result = run(manifest());
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /1 lessons, 1 steps, 1 blocks: valid/);
  });

  it('fails on a broken pattern with the lesson file and line', () => {
    const broken = manifest();
    broken.lessons[0]!.steps[0]!.blocks[0]!.expect = 'fine\n(unclosed (re)';
    const result = run(broken);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^lessons\/01-intro\.mdx:12: expected output, line 2: invalid regular expression "\(unclosed" in a "\(re\)" line: /m);
  });

  it('names unknown terminals of blocks and checks, with what the lesson opens', () => {
    const broken = manifest();
    broken.lessons[0]!.steps[0]!.blocks[0]!.terminal = 'leaf3';
    broken.lessons[0]!.steps[0]!.checks[0]!.terminal = 'spine1';
    const result = run(broken);
    assert.equal(result.status, 1);
    assert.equal(
      result.stderr,
      'lessons/01-intro.mdx:12: unknown terminal "leaf3"; this lesson opens: host\n' +
        'lessons/01-intro.mdx:20: unknown terminal "spine1" in a state check; this lesson opens: host\n',
    );
  });

  it('explains schema problems and text that is not JSON', () => {
    const bad = run({ version: 2, lessons: [] }, 'v2.json');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /v2\.json: version: /);
    const notJson = run('{', 'broken.json');
    assert.equal(notJson.status, 1);
    assert.match(notJson.stderr, /The course manifest .*broken\.json is not JSON: /);
  });

  it('prints its usage on misuse', () => {
    const result = spawnSync(process.execPath, [CLI], { encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.equal(result.stderr, 'usage: node runner/validate-manifest.ts FILE\n');
  });
});

describe('indexCourse', () => {
  it('reports duplicate ids and steps outside their lesson', () => {
    const m = manifest();
    m.lessons[0]!.steps.push({ ...m.lessons[0]!.steps[0]!, id: 'other/look' });
    const result = indexCourse(m, 'x.json');
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.ok(result.problems.includes('x.json: step id "other/look" is not inside lesson "intro"'), result.problems.join('\n'));
    assert.ok(result.problems.includes('lessons/01-intro.mdx:12: block id "intro/look/1" appears twice'), result.problems.join('\n'));
  });
});
