// The workshop's results as JSON and CSV: one row per learner, one column per step of the course.

import type { Course } from '../manifest.ts';
import type { StepState, StepStatus } from '../protocol.ts';
import type { WorkshopLearnerRecord, WorkshopRecord } from './store.ts';

export type LearnerResults = { record: WorkshopLearnerRecord; steps: StepStatus[] };

export type WorkshopResults = {
  workshop: { name: string; startedAt: string; endsAt: string | null; exportedAt: string };
  steps: { id: string; lesson: string; title: string }[];
  learners: {
    name: string;
    seat: string;
    joinedAt: string;
    lastSeenAt: string;
    passed: number;
    steps: Record<string, { state: StepState; at: string | null }>;
  }[];
};

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function resultsJson(workshop: WorkshopRecord, course: Course, learners: LearnerResults[], now = Date.now()): WorkshopResults {
  const steps = [...course.steps.values()].map(({ step, lesson }) => ({ id: step.id, lesson: lesson.id, title: step.title }));
  return {
    workshop: { name: workshop.name, startedAt: iso(workshop.startedAt), endsAt: workshop.endsAt === null ? null : iso(workshop.endsAt), exportedAt: iso(now) },
    steps,
    learners: learners.map(({ record, steps: statuses }) => {
      const byStep = new Map(statuses.map((s) => [s.step, s]));
      const cells: Record<string, { state: StepState; at: string | null }> = {};
      for (const { id } of steps) {
        const status = byStep.get(id);
        cells[id] = { state: status?.state ?? 'idle', at: status?.updatedAt === undefined ? null : iso(status.updatedAt) };
      }
      return {
        name: record.name,
        seat: record.seat,
        joinedAt: iso(record.joinedAt),
        lastSeenAt: iso(record.lastSeenAt),
        passed: Object.values(cells).filter((c) => c.state === 'passed').length,
        steps: cells,
      };
    }),
  };
}

/**
 * RFC 4180 quoting; a cell that a spreadsheet would take for a formula (= + - @, tab, CR) is
 * prefixed with a quote, as OWASP advises for CSV injection.
 */
export function csvCell(value: string | number): string {
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function resultsCsv(results: WorkshopResults): string {
  const header = ['name', 'seat', 'joined_at', 'last_seen_at', 'passed', ...results.steps.map((s) => s.id)];
  const lines = [header.map(csvCell).join(',')];
  for (const learner of results.learners) {
    const cells = [learner.name, learner.seat, learner.joinedAt, learner.lastSeenAt, learner.passed, ...results.steps.map((s) => learner.steps[s.id]!.state)];
    lines.push(cells.map(csvCell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
