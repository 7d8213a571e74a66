// <catch-up-bar>: the lesson's "Catch up" action. It offers itself prominently when the learner
// has not passed every earlier step of the course (from the progress endpoint), asks the page to
// send `catch-up` when clicked, and shows the runner's progress and outcome (with the failing
// check's diff when a block of an earlier lesson does not pass).

import { PROGRESS_PATH, progressResponseSchema, type ServerMessage } from '../../runner/protocol.ts';
import { failureReason, renderDiff } from './status-text.ts';

export const CATCH_UP_EVENT = 'catch-up:run';

type CatchUpMessage = Extract<ServerMessage, { type: 'catch-up' }>;

export class CatchUpBarElement extends HTMLElement {
  #running = false;

  connectedCallback(): void {
    this.#button()?.addEventListener('click', () => {
      this.dispatchEvent(new CustomEvent(CATCH_UP_EVENT, { bubbles: true }));
    });
  }

  get earlierSteps(): string[] {
    return JSON.parse(this.dataset.earlierSteps ?? '[]') as string[];
  }

  #button(): HTMLButtonElement | null {
    return this.querySelector<HTMLButtonElement>('button[data-action="catch-up"]');
  }

  #text(text: string): void {
    const element = this.querySelector<HTMLElement>('[data-role="catch-up-text"]');
    if (element) element.textContent = text;
  }

  setEnabled(enabled: boolean): void {
    const button = this.#button();
    if (button) button.disabled = !enabled || this.#running;
  }

  /** Reads which earlier steps this learner passed, and offers the catch-up if any is missing. */
  async refresh(): Promise<void> {
    if (this.#running || this.dataset.state === 'failed') return;
    let passed: Set<string>;
    try {
      const response = await fetch(PROGRESS_PATH, { credentials: 'same-origin', cache: 'no-store' });
      if (!response.ok) return;
      const progress = progressResponseSchema.parse(await response.json());
      passed = new Set(progress.steps.filter((s) => s.state === 'passed').map((s) => s.step));
    } catch (error) {
      // Without progress the bar keeps its quiet wording; the action still works.
      console.warn('catch-up: cannot read progress', error);
      return;
    }
    const missing = this.earlierSteps.filter((step) => !passed.has(step)).length;
    this.dataset.offer = String(missing > 0);
    if (this.dataset.state === 'idle') {
      this.#text(
        missing > 0
          ? `You have not done ${missing} of the ${this.earlierSteps.length} steps before this lesson that build the lab it needs. Catch up runs them for you, in order, in the terminals.`
          : 'You have done every step before this lesson that builds its lab. If your lab was reset, Catch up runs them again.',
      );
    }
  }

  /** Shown once the request is sent, until the runner's first frame. */
  markRequested(): void {
    this.#running = true;
    this.dataset.state = 'running';
    this.setEnabled(false);
    this.#text('Catching up…');
    this.#detail(null);
  }

  update(message: CatchUpMessage): void {
    this.dataset.state = message.state;
    this.#running = message.state === 'running';
    this.setEnabled(!this.#running);
    if (message.state === 'running') {
      this.#text(`Catching up: ${message.message} (${message.done} of ${message.total} blocks done)`);
      this.#detail(null);
      return;
    }
    this.dataset.offer = 'false';
    this.#text(message.message);
    this.#detail(message.state === 'failed' ? message : null);
  }

  /** An error frame about the catch-up (for example: one is already running). */
  setError(text: string): void {
    this.#running = false;
    this.dataset.state = 'failed';
    this.setEnabled(true);
    this.#text(text);
    this.#detail(null);
  }

  #detail(message: CatchUpMessage | null): void {
    const detail = this.querySelector<HTMLElement>('[data-role="catch-up-detail"]');
    if (!detail) return;
    detail.replaceChildren();
    detail.hidden = message === null || message.results.length === 0;
    if (!message || message.results.length === 0) return;
    const reason = document.createElement('p');
    reason.textContent = failureReason(message.results);
    detail.append(reason);
    for (const result of message.results) if (!result.passed && result.diff) detail.append(renderDiff(result.diff));
  }
}
