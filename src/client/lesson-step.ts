// <lesson-step> and <lesson-progress>: step states (with each state check's result) and the
// lesson's progress bar, both fed from the runner's `step` frames.

import type { StepState, StepStatus } from '../../runner/protocol.ts';
import { failureReason, stepStateText } from './status-text.ts';

export class LessonStepElement extends HTMLElement {
  get step(): string {
    return this.dataset.step ?? '';
  }

  setStatus(status: StepStatus): void {
    this.dataset.state = status.state;
    const label = this.querySelector<HTMLElement>('[data-role="step-state"]');
    if (label) {
      label.textContent = stepStateText(status);
      // The reason is shown where it happened (the block or the check); here it is a tooltip.
      label.title = status.state === 'failed' ? failureReason(status.results) : '';
    }
    updateChecks(this, status);
  }
}

/** State checks are marked wherever they are, so a step made of one run block needs no element. */
export function updateChecks(scope: ParentNode, status: StepStatus): void {
  for (const element of scope.querySelectorAll<HTMLElement>(`.state-check[data-step="${CSS.escape(status.step)}"]`)) {
    const index = Number(element.dataset.check);
    const result = status.results.find((candidate) => candidate.check === index);
    const message = element.querySelector<HTMLElement>('[data-role="check-message"]');
    if (!result) {
      element.dataset.state = status.state === 'running' ? 'running' : 'idle';
      if (message) message.textContent = '';
      continue;
    }
    element.dataset.state = result.passed ? 'passed' : 'failed';
    if (message) message.textContent = result.passed ? '' : result.message;
  }
}

export class LessonProgressElement extends HTMLElement {
  get steps(): string[] {
    return JSON.parse(this.dataset.steps ?? '[]') as string[];
  }

  update(states: ReadonlyMap<string, StepState>): void {
    const steps = this.steps;
    const done = steps.filter((step) => states.get(step) === 'passed').length;
    const bar = this.querySelector<HTMLElement>('[role="progressbar"]');
    const fill = this.querySelector<HTMLElement>('.lesson-progress__fill');
    const text = this.querySelector<HTMLElement>('[data-role="progress-text"]');
    const percent = steps.length === 0 ? 0 : Math.round((done / steps.length) * 100);
    bar?.setAttribute('aria-valuenow', String(done));
    if (fill) fill.style.width = `${percent}%`;
    this.dataset.complete = String(steps.length > 0 && done === steps.length);
    if (text && steps.length > 0) text.textContent = done === steps.length ? `All ${steps.length} steps done` : `${done} of ${steps.length} steps done`;
  }
}
