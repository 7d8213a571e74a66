// <lab-startup>: the learner's lab coming up, above the terminals. While it starts: each phase
// with its state and a progress bar (the list folds to one line once the terminals exist); once it
// is ready, nothing; when the start failed: one sentence, Retry, and the lab's log folded away.

import type { StartupProgress } from '../../runner/protocol.ts';

export const STARTUP_RETRY_EVENT = 'lab-startup:retry';

const PHASE_MARK: Record<StartupProgress['phases'][number]['state'], string> = {
  pending: '○',
  running: '◐',
  done: '✓',
  skipped: '–',
  failed: '✗',
};

export class LabStartupElement extends HTMLElement {
  #progress: StartupProgress | undefined;

  connectedCallback(): void {
    this.querySelector('[data-action="retry"]')?.addEventListener('click', () => {
      this.#role('retry')?.setAttribute('disabled', '');
      this.dispatchEvent(new CustomEvent(STARTUP_RETRY_EVENT, { bubbles: true }));
    });
  }

  /** The last progress shown; undefined before the runner said anything (a target without a start). */
  get progress(): StartupProgress | undefined {
    return this.#progress;
  }

  get starting(): boolean {
    return this.#progress?.state === 'starting';
  }

  update(progress: StartupProgress): void {
    this.#progress = progress;
    this.dataset.state = progress.state;
    this.hidden = progress.state === 'ready';
    const phases = progress.phases;
    const finished = phases.filter((phase) => phase.state === 'done' || phase.state === 'skipped').length;
    const running = phases.find((phase) => phase.state === 'running');
    // The list folds once every device exists: the terminals are there, the rest is convergence.
    this.dataset.compact = String(phases.some((phase) => phase.phase === 'devices' && phase.state === 'done'));

    const title = this.#role('title');
    if (title) {
      title.textContent =
        progress.state === 'failed' ? 'Your lab did not start'
        : running ? `Starting your lab: ${running.label}${running.detail ? ` (${running.detail})` : ''}`
        : 'Starting your lab…';
    }
    const count = this.#role('count');
    if (count) count.textContent = phases.length > 0 ? `${finished} of ${phases.length}` : '';
    const bar = this.#role('bar');
    if (bar) {
      // A running phase counts as half done, so the bar moves when a long phase starts.
      const value = phases.length === 0 ? 0 : Math.round(((finished + (running ? 0.5 : 0)) / phases.length) * 100);
      bar.setAttribute('aria-valuenow', String(value));
      bar.style.setProperty('--startup-progress', `${value}%`);
    }
    const list = this.#role('phases');
    list?.replaceChildren(
      ...phases.map((phase) => {
        const item = document.createElement('li');
        item.dataset.state = phase.state;
        const mark = document.createElement('span');
        mark.className = 'startup__mark';
        mark.setAttribute('aria-hidden', 'true');
        mark.textContent = PHASE_MARK[phase.state];
        const label = document.createElement('span');
        label.textContent = phase.label;
        const note = document.createElement('span');
        note.className = 'startup__note';
        note.textContent =
          phase.state === 'done' && phase.seconds !== undefined ? `${phase.seconds.toFixed(1)} s`
          : phase.state === 'running' ? (phase.detail ?? 'working…')
          : phase.state === 'skipped' ? 'not needed'
          : phase.state === 'failed' ? 'failed here'
          : '';
        item.append(mark, label, note);
        return item;
      }),
    );

    const failure = this.#role('failure');
    if (failure) failure.hidden = progress.state !== 'failed';
    const message = this.#role('message');
    if (message) message.textContent = progress.message ?? '';
    const detail = this.#role('detail');
    if (detail) detail.textContent = progress.detail ?? '';
    if (progress.state !== 'failed') this.#role('retry')?.removeAttribute('disabled');
  }

  #role(role: string): HTMLElement | null {
    return this.querySelector<HTMLElement>(`[data-role="${role}"]`);
  }
}
