// <run-block>: a runnable block's Run and Copy buttons, its state, and the reason and diff when
// it fails. Clicking Run dispatches `run-block:run`; the lesson page sends it to the runner.

import type { BlockStatus } from '../../runner/protocol.ts';
import { blockStateText, failureReason, renderDiff } from './status-text.ts';

export type RunRequest = { block: string; terminal: string };
export const RUN_EVENT = 'run-block:run';
/** Stop: Ctrl-C to the block's terminal (detail: the terminal's name). */
export const STOP_EVENT = 'run-block:stop';

/** How long "Copied" stays on the Copy button. */
const COPIED_FEEDBACK_MS = 1500;

export class RunBlockElement extends HTMLElement {
  #copyTimer: ReturnType<typeof setTimeout> | undefined;

  get block(): string {
    return this.dataset.block ?? '';
  }

  get terminal(): string {
    return this.dataset.terminal ?? '';
  }

  connectedCallback(): void {
    this.#button('run')?.addEventListener('click', () => {
      this.dispatchEvent(new CustomEvent<RunRequest>(RUN_EVENT, { bubbles: true, detail: { block: this.block, terminal: this.terminal } }));
    });
    this.#button('stop')?.addEventListener('click', () => {
      this.dispatchEvent(new CustomEvent<string>(STOP_EVENT, { bubbles: true, detail: this.terminal }));
    });
    this.#button('copy')?.addEventListener('click', () => void this.#copy());
  }

  /** Run is possible only while the session is connected and the lab is not starting (it says so). */
  setEnabled(enabled: boolean, labStarting = false): void {
    const run = this.#button('run');
    if (!run) return;
    run.disabled = !enabled;
    run.title = labStarting ? 'The lab is starting; blocks run once it is up' : '';
    run.dataset.label ??= run.getAttribute('aria-label') ?? 'Run';
    run.setAttribute('aria-label', labStarting ? `${run.dataset.label} (the lab is starting)` : run.dataset.label);
    const label = run.querySelector<HTMLElement>('[data-role="run-label"]');
    if (label) label.textContent = labStarting ? 'Lab starting…' : 'Run';
  }

  /** Shown between the click and the runner's first status for the block. */
  markRequested(): void {
    this.setStatus({ block: this.block, state: 'queued', results: [] });
  }

  setStatus(status: BlockStatus): void {
    this.dataset.state = status.state;
    const label = this.querySelector<HTMLElement>('[data-role="block-state"]');
    if (label) label.textContent = blockStateText(status);
    const result = this.querySelector<HTMLElement>('[data-role="block-result"]');
    if (!result) return;
    result.replaceChildren();
    if (status.state !== 'failed') {
      result.hidden = true;
      return;
    }
    const reason = document.createElement('p');
    reason.className = 'run-block__reason';
    reason.textContent = failureReason(status.results);
    result.append(reason);
    for (const check of status.results) {
      if (check.passed || !check.diff) continue;
      const legend = document.createElement('p');
      legend.className = 'diff-legend';
      legend.innerHTML = '<span class="diff-legend__del">− expected</span><span class="diff-legend__add">+ actual output</span>';
      result.append(legend, renderDiff(check.diff));
    }
    result.hidden = false;
  }

  /** An error from the runner about this block (for example: its terminal is busy). */
  setError(message: string): void {
    this.setStatus({ block: this.block, state: 'failed', results: [{ check: 'output', passed: false, message }] });
  }

  #button(action: string): HTMLButtonElement | null {
    return this.querySelector<HTMLButtonElement>(`button[data-action="${action}"]`);
  }

  async #copy(): Promise<void> {
    const code = this.querySelector('.run-block__code pre')?.textContent ?? '';
    const button = this.#button('copy');
    let copied = false;
    try {
      await navigator.clipboard.writeText(code);
      copied = true;
    } catch (error) {
      // The clipboard API needs focus and a secure context; say so instead of failing silently.
      console.warn('copy failed', error);
    }
    if (!button) return;
    button.textContent = copied ? 'Copied' : 'Copy failed';
    clearTimeout(this.#copyTimer);
    this.#copyTimer = setTimeout(() => (button.textContent = 'Copy'), COPIED_FEEDBACK_MS);
  }
}
