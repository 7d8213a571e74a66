// Benchmark: the whole course checked in a real browser (budget ≤ 120 s, DESIGN.md). Runs the
// Playwright course check (`npm run test:lessons`, project `course`: every lesson walked as one
// learner in Debian's chromium, each step verified to fail before it runs, each Run clicked, each
// step required to be marked done) and prints per-lesson times, the course total and the wall
// time of the whole run (site build, runner start and lab teardown included).
//
// Usage: npm run bench:course [-- RUNS]   (COURSE_CHECK_DIR / COURSE_CHECK_TARGET as for test:lessons)

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BUDGET_MS = 120_000;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const runs = Number(process.argv[2] ?? process.env.RUNS ?? 1);

type Timing = { lesson: string; ms: number; steps: number; passed: number; catchUpMs?: number };

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

async function runOnce(): Promise<{ timings: Timing[]; wallMs: number; code: number | null }> {
  // Not a `course-check-browser-` directory: the check's teardown leaves it for us to read.
  const state = mkdtempSync(path.join(tmpdir(), 'bench-course-'));
  try {
    const started = performance.now();
    const child = spawn(process.execPath, [path.join(ROOT, 'node_modules/.bin/playwright'), 'test', '-c', 'playwright.lessons.config.ts', '--project', 'course', '--reporter=dot'], {
      cwd: ROOT,
      env: { ...process.env, COURSE_CHECK_STATE: state },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const wallMs = performance.now() - started;
    const file = path.join(state, 'timings.jsonl');
    const timings = existsSync(file)
      ? readFileSync(file, 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Timing)
      : [];
    return { timings, wallMs, code };
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
}

const results: Awaited<ReturnType<typeof runOnce>>[] = [];
for (let i = 0; i < runs; i++) results.push(await runOnce());

const lessons = [...new Set(results.flatMap((r) => r.timings.map((t) => t.lesson)))];
const width = Math.max(6, ...lessons.map((l) => l.length));
const lines = ['', `Whole course in the browser (${process.env.COURSE_CHECK_DIR ?? 'lessons'}, ${process.env.COURSE_CHECK_TARGET ?? 'lab'} target), ${runs} run${runs === 1 ? '' : 's'}`];
lines.push(`| ${'lesson'.padEnd(width)} | steps | passed | ${results.map((_, i) => `run ${i + 1}`.padEnd(8)).join(' | ')} |`);
lines.push(`|${'-'.repeat(width + 2)}|-------|--------|${results.map(() => '----------').join('|')}|`);
for (const lesson of lessons) {
  const cells = results.map((r) => {
    const t = r.timings.find((x) => x.lesson === lesson);
    return (t ? seconds(t.ms + (t.catchUpMs ?? 0)) : '–').padEnd(8);
  });
  const last = results.flatMap((r) => r.timings).filter((t) => t.lesson === lesson).at(-1)!;
  lines.push(`| ${lesson.padEnd(width)} | ${String(last.steps).padStart(5)} | ${String(last.passed).padStart(6)} | ${cells.join(' | ')} |`);
}
const totals = results.map((r) => r.timings.reduce((sum, t) => sum + t.ms + (t.catchUpMs ?? 0), 0));
lines.push(`| ${'**course**'.padEnd(width)} |       |        | ${totals.map((t) => seconds(t).padEnd(8)).join(' | ')} |`);
lines.push(`| ${'wall (build, start, teardown)'.padEnd(width)} |       |        | ${results.map((r) => seconds(r.wallMs).padEnd(8)).join(' | ')} |`);
const worst = Math.max(...totals);
const allPassed = results.every((r) => r.code === 0);
lines.push(
  '',
  allPassed
    ? `budget ≤ ${seconds(BUDGET_MS)} for the course: ${worst <= BUDGET_MS ? 'met' : 'NOT met'} (slowest run ${seconds(worst)})`
    : `not measured: a lesson failed (see above), so the course was not walked to the end; budget ≤ ${seconds(BUDGET_MS)}`,
);
console.log(lines.join('\n'));
process.exit(allPassed && worst <= BUDGET_MS ? 0 : 1);
