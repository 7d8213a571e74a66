// The checker's words: one line per step as it finishes (✓/✗, time), what failed under it (the
// block, the check's message, the diff, the end of the terminal), flaky steps across repeated
// runs, and a table of per-lesson timings at the end.

import type { LessonReport, StepReport } from './walk.ts';

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((line) => `${by}${line}`)
    .join('\n');
}

export function formatStep(step: StepReport): string {
  const lines = [`  ${step.ok ? '✓' : '✗'} ${step.step}  ${step.title}  (${seconds(step.ms)})`];
  for (const warning of step.warnings) lines.push(`      ⚠ proves nothing by output: ${warning}`);
  if (step.ok) return lines.join('\n');
  for (const problem of step.problems) lines.push(indent(problem, '      '));
  if (step.diff) lines.push('      diff (- expected, + actual):', indent(step.diff.replace(/\n$/, ''), '        '));
  if (step.terminal) {
    lines.push(`      terminal ${step.terminal.name}, last lines:`, indent(step.terminal.text || '(empty)', '        │ '));
  }
  return lines.join('\n');
}

export function failures(runs: LessonReport[][]): StepReport[] {
  return runs.flat().flatMap((lesson) => lesson.steps.filter((s) => !s.ok));
}

/** Steps that passed in some runs and failed in others. */
export function flakySteps(runs: LessonReport[][]): { step: string; passed: number; runs: number }[] {
  const outcomes = new Map<string, boolean[]>();
  for (const run of runs) for (const lesson of run) for (const step of lesson.steps) outcomes.set(step.step, [...(outcomes.get(step.step) ?? []), step.ok]);
  return [...outcomes]
    .filter(([, oks]) => oks.some(Boolean) && oks.some((ok) => !ok))
    .map(([step, oks]) => ({ step, passed: oks.filter(Boolean).length, runs: oks.length }));
}

export function timingTable(runs: LessonReport[][]): string {
  const ids = [...new Set(runs.flat().map((l) => l.lesson))];
  const width = Math.max(6, ...ids.map((id) => id.length));
  const rows = [`${'lesson'.padEnd(width)}  steps  passed  ${runs.length > 1 ? 'time (min … max)' : 'time'}`];
  let total = 0;
  for (const id of ids) {
    const reports = runs.flatMap((run) => run.filter((l) => l.lesson === id));
    const times = reports.map((r) => r.ms);
    const last = reports.at(-1)!;
    const passed = last.steps.filter((s) => s.ok).length;
    total += times.reduce((a, b) => a + b, 0) / times.length;
    const time = times.length > 1 ? `${seconds(Math.min(...times))} … ${seconds(Math.max(...times))}` : seconds(times[0]!);
    const caught = last.catchUp ? `  (catch-up ${seconds(last.catchUp.ms)}${last.catchUp.ok ? '' : ', failed'})` : '';
    rows.push(`${id.padEnd(width)}  ${String(last.steps.length).padStart(5)}  ${String(passed).padStart(6)}  ${time}${caught}`);
  }
  rows.push(`${'total'.padEnd(width)}  ${' '.repeat(5)}  ${' '.repeat(6)}  ${seconds(total)}${runs.length > 1 ? ' (mean per run)' : ''}`);
  return rows.join('\n');
}
