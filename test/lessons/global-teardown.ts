// Prints the course check's per-lesson timings, then removes the state directory the config made
// (the runners have stopped by now: Playwright stops web servers before the global teardown).

import fs from 'node:fs';
import path from 'node:path';

export default async function globalTeardown(): Promise<void> {
  const dir = process.env.COURSE_CHECK_STATE;
  if (!dir) return;
  const file = path.join(dir, 'timings.jsonl');
  if (fs.existsSync(file)) {
    const rows = fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { lesson: string; ms: number; steps: number; passed: number; catchUpMs?: number; catchUpFailed?: boolean });
    const width = Math.max(6, ...rows.map((r) => r.lesson.length));
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const lines = [`\nCourse check, per lesson (${process.env.COURSE_CHECK_DIR ?? 'lessons'}):`, `${'lesson'.padEnd(width)}  steps  passed  time`];
    for (const r of rows) {
      lines.push(`${r.lesson.padEnd(width)}  ${String(r.steps).padStart(5)}  ${String(r.passed).padStart(6)}  ${s(r.ms)}${r.catchUpFailed ? `  (not walked: its catch-up failed after ${s(r.catchUpMs ?? 0)})` : r.catchUpMs ? `  (after a ${s(r.catchUpMs)} catch-up)` : ''}`);
    }
    lines.push(`${'total'.padEnd(width)}  ${' '.repeat(5)}  ${' '.repeat(6)}  ${s(rows.reduce((sum, r) => sum + r.ms + (r.catchUpMs ?? 0), 0))}`);
    console.log(lines.join('\n'));
  }
  // Only the directory the config made; one given by the caller (bench/course-time.ts) is theirs.
  if (dir.includes('course-check-browser-')) fs.rmSync(dir, { recursive: true, force: true });
}
