// The course check catches a broken lesson, with a message that points at the step: run on the
// deliberately broken course (test/broken-course, local target), lesson by lesson as one learner,
// the walk that course.spec.ts makes must pass the good lesson and fail each broken one with the
// lesson, step and block named, and the reason (and diff) that the test failure would show.

import { courseManifestSchema, type LessonManifest } from '../../runner/protocol.ts';
import { describeFailure, walkLessonInPage } from './browser-walk.ts';
import { expect, test } from './fixtures.ts';

test('the course check fails on each broken lesson, naming its step', async ({ learner }) => {
  const { page, baseURL } = learner;
  const manifest = courseManifestSchema.parse(await (await page.request.get('/course-manifest.json')).json());
  const walk = async (id: string) => {
    const lesson: LessonManifest = manifest.lessons.find((l) => l.id === id)!;
    await page.goto(`/lessons/${id}/`);
    await expect(page.locator('connection-status')).toHaveAttribute('data-state', 'connected');
    const result = await walkLessonInPage(page, baseURL, lesson);
    return { result, failures: result.steps.filter((s) => !s.ok).map((s) => describeFailure(id, s)) };
  };

  const good = await walk('01-good');
  expect(good.failures).toEqual([]);
  expect(good.result.steps.map((s) => s.step)).toEqual(['01-good/greet', '01-good/write']);

  const wrongLine = await walk('02-wrong-line');
  expect(wrongLine.failures).toHaveLength(1);
  expect(wrongLine.failures[0]).toContain(
    '02-wrong-line › 02-wrong-line/list-spines ("List the spines") › block 02-wrong-line/list-spines/1\n' +
      '  block 02-wrong-line/list-spines/1 (test/broken-course/02-wrong-line.mdx:14) failed: output did not match the expected output',
  );
  expect(wrongLine.failures[0]).toMatch(/^ {4}-spine3$/m);
  expect(wrongLine.failures[0]).toMatch(/^ {4}\+spine2$/m);
  expect(wrongLine.result.steps[0]!.terminal?.text).toMatch(/^spine2$/m);

  const alwaysPasses = await walk('03-always-passes');
  expect(alwaysPasses.failures).toEqual([
    '03-always-passes › 03-always-passes/make-dir ("Make a folder")\n' +
      "  check passes before the step ran: state check 0 (test/broken-course/03-always-passes.mdx:19: `test -d .`) already exits 0 before the step's blocks ran, so its passing proves nothing about the step",
  ]);

  const failing = await walk('04-failing-command');
  expect(failing.failures).toEqual([
    '04-failing-command › 04-failing-command/read-leaves ("Read the leaves") › block 04-failing-command/read-leaves/1\n' +
      '  block 04-failing-command/read-leaves/1 (test/broken-course/04-failing-command.mdx:14) failed: exited with 1, expected 0',
  ]);
  expect(failing.result.steps[0]!.terminal?.text).toContain('cat: leaves.txt: No such file or directory');
  expect(failing.result.steps[0]!.warnings).toEqual([
    'block 04-failing-command/read-leaves/1 is checked by its exit code (0) only and its step has no state check, so nothing can be shown to fail before it runs',
  ]);
});
