// The course home: fills each lesson's progress from the runner's record of this learner.

import { PROGRESS_PATH, progressResponseSchema, type StepState } from '../../runner/protocol.ts';
import { admitted } from './admission.ts';

async function showProgress(): Promise<void> {
  const elements = [...document.querySelectorAll<HTMLElement>('course-progress')];
  if (elements.length === 0) return;
  let states: Map<string, StepState>;
  try {
    await admitted;
    const response = await fetch(PROGRESS_PATH, { credentials: 'same-origin', cache: 'no-store' });
    if (!response.ok) throw new Error(`${PROGRESS_PATH} answered ${response.status}`);
    const progress = progressResponseSchema.parse(await response.json());
    states = new Map(progress.steps.map((step) => [step.step, step.state]));
  } catch (error) {
    // Without the runner the course can still be read; progress then shows as unknown.
    console.warn('progress unavailable', error);
    for (const element of elements) element.dataset.state = 'unknown';
    return;
  }
  for (const element of elements) {
    const steps = JSON.parse(element.dataset.steps ?? '[]') as string[];
    const done = steps.filter((step) => states.get(step) === 'passed').length;
    const started = steps.some((step) => states.has(step) && states.get(step) !== 'idle');
    element.dataset.state = steps.length > 0 && done === steps.length ? 'done' : started || done > 0 ? 'started' : 'new';
    element.querySelector<HTMLElement>('.ring')?.style.setProperty('--done', String(steps.length ? done / steps.length : 0));
    const text = element.querySelector<HTMLElement>('[data-role="progress-text"]');
    if (text && steps.length > 0) text.textContent = done === steps.length ? 'Completed' : done > 0 || started ? `${done} of ${steps.length} done` : 'Not started';
  }
}

void showProgress();
