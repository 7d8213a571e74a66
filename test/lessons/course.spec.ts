// Every lesson of the course, in order, walked in the browser as one learner: for each step, its
// checks fail before it runs, then each Run is clicked in order and the step must be marked done
// within its budget. A failure names the lesson, step and block, and attaches the check's diff,
// the terminal's text, a screenshot and a trace.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { courseManifestSchema } from '../../runner/protocol.ts';
import { loadCourse } from '../../src/course/load-course.ts';
import { CATCH_UP_BUDGET_MS, catchUpInPage, describeFailure, lessonBudgetMs, walkLessonInPage } from './browser-walk.ts';
import { expect, recordTiming, test } from './fixtures.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COURSE_DIR = process.env.COURSE_CHECK_DIR ?? 'lessons';
// The list of tests comes from the lessons themselves; each test then follows the manifest the
// runner serves (what really runs).
const { manifest, errors } = loadCourse({ courseDir: path.resolve(ROOT, COURSE_DIR), projectRoot: ROOT });
if (errors.length) throw new Error(`the course in ${COURSE_DIR} has errors:\n${errors.map((e) => `${e.file}:${e.line}: ${e.message}`).join('\n')}`);
const lessons = [...manifest.lessons].sort((a, b) => a.order - b.order);

for (const [index, listed] of lessons.entries()) {
  test(`${listed.id}: every step fails before it runs and passes after`, async ({ learner }, testInfo) => {
    const { page, baseURL } = learner;
    const served = courseManifestSchema.parse(await (await page.request.get('/course-manifest.json')).json());
    const lesson = served.lessons.find((l) => l.id === listed.id);
    if (!lesson) throw new Error(`lesson ${listed.id} is not in the course the runner serves`);
    const catchUp = learner.fresh && index > 0;
    test.setTimeout(lessonBudgetMs(lesson) + (catchUp ? CATCH_UP_BUDGET_MS : 0));

    await page.goto(`/lessons/${lesson.id}/`);
    await expect(page.locator('connection-status')).toHaveAttribute('data-state', 'connected');
    let catchUpMs: number | undefined;
    if (catchUp) {
      // A new learner (the first, or one after a failed lesson): the lab the lessons before build.
      const started = performance.now();
      const why = await catchUpInPage(page);
      catchUpMs = performance.now() - started;
      if (why) {
        recordTiming({ lesson: lesson.id, ms: 0, steps: lesson.steps.length, passed: 0, catchUpMs, catchUpFailed: true });
        throw new Error(`${lesson.id}: the catch-up to this lesson failed, so it could not be walked:\n${why}`);
      }
    }
    learner.fresh = false;

    const result = await walkLessonInPage(page, baseURL, lesson);
    const failed = result.steps.filter((s) => !s.ok);
    recordTiming({ lesson: lesson.id, ms: result.ms, steps: result.steps.length, passed: result.steps.length - failed.length, ...(catchUpMs ? { catchUpMs } : {}) });
    const report = result.steps.map((s) => `${s.ok ? '✓' : '✗'} ${s.step}  ${(s.ms / 1000).toFixed(1)} s${s.warnings.map((w) => `\n    ⚠ ${w}`).join('')}`);
    await testInfo.attach('steps', { body: report.join('\n'), contentType: 'text/plain' });
    for (const step of failed) {
      if (step.diff) await testInfo.attach(`diff ${step.step}`, { body: step.diff, contentType: 'text/plain' });
      if (step.terminal) await testInfo.attach(`terminal ${step.terminal.name} at ${step.step}`, { body: step.terminal.text, contentType: 'text/plain' });
    }
    if (failed.length) throw new Error(failed.map((step) => describeFailure(lesson.id, step)).join('\n\n'));
  });
}
