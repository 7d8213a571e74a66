import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { courseManifestSchema } from '../../runner/protocol.ts';
import { loadCourse } from './load-course.ts';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'load-course-'));
after(() => fs.rmSync(temp, { recursive: true, force: true }));

describe('the course manifest', () => {
  test('the fixture course loads into a manifest the protocol accepts', () => {
    const course = loadCourse({ courseDir: 'test/fixture-course', projectRoot });
    assert.deepEqual(course.errors, []);
    const manifest = courseManifestSchema.parse(course.manifest);
    assert.deepEqual(
      manifest.lessons.map((lesson) => [lesson.id, lesson.order, lesson.terminals.map((terminal) => terminal.name)]),
      [
        ['01-first-steps', 1, ['shell']],
        ['02-two-terminals', 2, ['host', 'k8s-master']],
      ],
    );
    const [first, second] = manifest.lessons;
    assert.deepEqual(first!.steps.map((step) => step.id), ['01-first-steps/hello', '01-first-steps/write-notes', '01-first-steps/wrong-fruit']);
    const heredoc = first!.steps[1]!.blocks[0]!;
    assert.equal(
      heredoc.code,
      "cat > fixture-notes.txt <<'NOTES'\nleaf01 peers with spine01\nleaf02 peers with spine01\nNOTES\nwc -l < fixture-notes.txt\n",
    );
    assert.deepEqual(heredoc.source, { file: 'test/fixture-course/01-first-steps.mdx', line: 39 });
    assert.equal(first!.steps[0]!.blocks[0]!.exitCode, 0);
    assert.equal(first!.steps[0]!.blocks[0]!.expect, 'hello from the course');
    assert.deepEqual(first!.steps[1]!.checks[0], {
      command: "grep -q 'leaf02 peers' fixture-notes.txt",
      terminal: 'shell',
      timeoutMs: 5000,
      intervalMs: 500,
      description: 'fixture-notes.txt holds both peering lines',
      source: { file: 'test/fixture-course/01-first-steps.mdx', line: 51 },
    });
    assert.deepEqual(
      second!.steps.map((step) => [step.id, step.title, step.blocks.map((block) => block.terminal)]),
      [
        ['02-two-terminals/block-1', 'On the host', ['host']],
        ['02-two-terminals/answer', 'Compute in the second terminal', ['k8s-master']],
      ],
    );
  });

  test('two lessons with the same order are an error naming both files', () => {
    const dir = path.join(temp, 'same-order');
    fs.mkdirSync(dir);
    const lesson = (title: string) => `---\ntitle: ${title}\norder: 3\nsummary: S.\nminutes: 1\n---\n\nText.\n`;
    fs.writeFileSync(path.join(dir, 'a.mdx'), lesson('A'));
    fs.writeFileSync(path.join(dir, 'b.mdx'), lesson('B'));
    const course = loadCourse({ courseDir: dir, projectRoot: temp });
    assert.deepEqual(course.errors, [
      { file: 'same-order/b.mdx', line: 1, message: 'front matter: order 3 is already used by same-order/a.mdx; allowed: a different order per lesson' },
    ]);
  });

  test('a step marked lasting="no" says so in the manifest; any other value is an error naming the allowed ones', () => {
    const dir = path.join(temp, 'lasting');
    fs.mkdirSync(dir);
    const step = (id: string, lasting: string) =>
      `<Step id="${id}" title="T" lasting="${lasting}">\n\n\`\`\`sh run\ntrue\n\`\`\`\n\n</Step>\n`;
    fs.writeFileSync(
      path.join(dir, 'x.mdx'),
      `---\ntitle: X\norder: 1\nsummary: S.\nminutes: 1\n---\nimport Step from '@lesson-components/Step.astro';\n\n${step('look', 'no')}\n${step('build', 'yes')}\n${step('odd', 'sometimes')}`,
    );
    const course = loadCourse({ courseDir: dir, projectRoot: temp });
    assert.deepEqual(course.manifest.lessons[0]!.steps.map((s) => [s.id, s.lasting]), [['x/look', false], ['x/build', undefined], ['x/odd', undefined]]);
    assert.equal(course.errors.length, 1);
    assert.match(course.errors[0]!.message, /^<Step> lasting="sometimes" is not allowed; allowed: "no" .* or "yes" \(the default\)$/);
  });

  test('a missing course folder is an empty course', () => {
    const course = loadCourse({ courseDir: path.join(temp, 'nowhere'), projectRoot: temp });
    assert.deepEqual(course.manifest, { version: 1, lessons: [] });
    assert.deepEqual(course.errors, []);
  });

  test('a lesson without the default terminal gets one terminal named shell', () => {
    const dir = path.join(temp, 'default-terminal');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'x.mdx'), '---\ntitle: X\norder: 1\nsummary: S.\nminutes: 1\n---\n\n```sh run\ntrue\n```\n');
    const course = loadCourse({ courseDir: dir, projectRoot: temp });
    assert.deepEqual(course.errors, []);
    assert.deepEqual(course.manifest.lessons[0]!.terminals, [{ name: 'shell', title: 'Shell' }]);
    assert.equal(course.manifest.lessons[0]!.steps[0]!.blocks[0]!.terminal, 'shell');
  });
});
