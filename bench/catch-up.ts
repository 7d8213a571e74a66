// Benchmark: catch-up to the start of each lesson (budget ≤ 20 s on a quiet machine). For every
// lesson with earlier steps, a new learner with a fresh lab (brought up first, not counted) asks
// for a catch-up to that lesson, as the page's Catch up does; the table gives the catch-up's time,
// the steps and blocks it ran, and its slowest step. The machine's load is recorded with it.
//
// Usage: npm run bench:catch-up [-- LESSON...]   (the course in lessons/, on the lab target)

import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lessonStartSteps } from '../runner/catch-up.ts';
import { courseManifestSchema, type CatchUpStatusMessage } from '../runner/protocol.ts';
import { CourseClient, newLearner } from '../scripts/course-check/client.ts';
import { defaultSiteDir, ensureSite, startRunner } from '../scripts/course-check/runner-process.ts';
import { orderedLessons } from '../scripts/course-check/walk.ts';

const BUDGET_MS = 20_000;
/** A whole lab coming up on a loaded 2-core machine; a bench that waits longer has its answer. */
const LAB_UP_MS = 10 * 60_000;
const CATCH_UP_MS = 20 * 60_000;

const log = (line: string) => process.stderr.write(`${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const load = () => os.loadavg()[0]!.toFixed(1);

const courseDir = 'lessons';
const siteDir = defaultSiteDir(courseDir);
await ensureSite(courseDir, siteDir, log);
const manifest = courseManifestSchema.parse(JSON.parse(readFileSync(path.join(siteDir, 'course-manifest.json'), 'utf8')));
const wanted = process.argv.slice(2);
const lessons = orderedLessons(manifest).filter((lesson) => lessonStartSteps(manifest, lesson.id).length > 0 && (wanted.length === 0 || wanted.includes(lesson.id)));

type Row = { lesson: string; ms: number; steps: number; blocks: number; slowest: string; state: string; loadBefore: string; loadAfter: string };
const rows: Row[] = [];
const runner = await startRunner({ siteDir, target: 'lab', args: ['--lab-prefix', `bcu${process.pid}`.slice(0, 16)], log });
try {
  for (const lesson of lessons) {
    const learner = await newLearner(runner.url);
    const client = await CourseClient.open(runner.url, learner, lesson.id);
    try {
      // The lab comes up first (a learner opening the lesson); the catch-up is timed from a ready lab.
      client.send({ type: 'open', terminal: lesson.terminals[0]!.name, size: { cols: 120, rows: 40 } });
      await client.waitFor((m) => m.type === 'startup' && m.state !== 'starting', LAB_UP_MS, `the lab of ${lesson.id} to start`);
      const loadBefore = load();
      const from = client.messages.length;
      const started = performance.now();
      client.send({ type: 'catch-up' });
      const final = (await client.waitFor((m) => m.type === 'catch-up' && m.state !== 'running', CATCH_UP_MS, `the catch-up to ${lesson.id}`, from)) as CatchUpStatusMessage;
      const ms = performance.now() - started;
      rows.push({ lesson: lesson.id, ms, steps: lessonStartSteps(manifest, lesson.id).length, blocks: final.done, slowest: slowestStep(client, from), state: final.state, loadBefore, loadAfter: load() });
      log(`${lesson.id}: ${final.state} in ${seconds(ms)}: ${final.message}`);
    } finally {
      await client.close();
    }
  }
} finally {
  await runner.stop();
}

/**
 * The step that took longest and its time: from one `running` frame of the catch-up (sent as each
 * block starts) to the next frame, summed per step.
 */
function slowestStep(client: CourseClient, from: number): string {
  const frames = client.messages
    .map((message, index) => ({ message, at: client.receivedAt[index]! }))
    .slice(from)
    .filter((frame): frame is { message: CatchUpStatusMessage; at: number } => frame.message.type === 'catch-up');
  const perStep = new Map<string, number>();
  for (const [index, frame] of frames.entries()) {
    const next = frames[index + 1];
    if (!next || !frame.message.block) continue;
    const step = frame.message.block.split('/').slice(0, 2).join('/');
    perStep.set(step, (perStep.get(step) ?? 0) + next.at - frame.at);
  }
  const [step, ms] = [...perStep].sort((a, b) => b[1] - a[1])[0] ?? ['–', 0];
  return `${step} ${seconds(ms)}`;
}

const width = Math.max(6, ...rows.map((row) => row.lesson.length));
console.log(`\nCatch-up to the start of each lesson (lab target), ${os.cpus().length} CPUs, ${os.cpus()[0]?.model.trim() ?? ''}`);
const slowWidth = Math.max(12, ...rows.map((row) => row.slowest.length));
console.log(`| ${'lesson'.padEnd(width)} | steps | blocks | catch-up | result | ${'slowest step'.padEnd(slowWidth)} | load before → after |`);
console.log(`|${'-'.repeat(width + 2)}|-------|--------|----------|--------|${'-'.repeat(slowWidth + 2)}|---------------------|`);
for (const row of rows) {
  console.log(
    `| ${row.lesson.padEnd(width)} | ${String(row.steps).padStart(5)} | ${String(row.blocks).padStart(6)} | ${seconds(row.ms).padStart(8)} | ${row.state.padEnd(6)} | ${row.slowest.padEnd(slowWidth)} | ${`${row.loadBefore} → ${row.loadAfter}`.padEnd(19)} |`,
  );
}
const worst = Math.max(...rows.map((row) => row.ms));
console.log(`\nbudget ≤ ${seconds(BUDGET_MS)} to the start of any lesson: ${worst <= BUDGET_MS ? 'met' : 'NOT met'} (slowest ${seconds(worst)})`);
process.exit(rows.every((row) => row.state === 'passed') ? 0 : 1);
