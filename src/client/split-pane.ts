// <split-pane>: the text beside the terminals, with a handle that drags (pointer) or steps
// (arrow keys, Home, End) the split. The chosen split is remembered for the next lesson.

const STORAGE_KEY = 'course.split';
/** Neither pane gets narrower than this share of the width, so both stay usable. */
const MIN_PERCENT = 25;
const MAX_PERCENT = 75;
const DEFAULT_PERCENT = 50;
/** One arrow key press moves the split by this much; with Shift, five times as much. */
const KEY_STEP_PERCENT = 2;

export class SplitPaneElement extends HTMLElement {
  #percent = DEFAULT_PERCENT;

  connectedCallback(): void {
    const handle = this.querySelector<HTMLElement>('.split__handle');
    if (!handle) return;
    const stored = Number(localStorage.getItem(STORAGE_KEY));
    this.#set(Number.isFinite(stored) && stored > 0 ? stored : DEFAULT_PERCENT, false);

    handle.addEventListener('pointerdown', (event) => {
      if (event.button !== 0) return;
      event.preventDefault();
      handle.setPointerCapture(event.pointerId);
      this.dataset.dragging = 'true';
      const move = (moveEvent: PointerEvent) => {
        const box = this.getBoundingClientRect();
        this.#set(((moveEvent.clientX - box.left) / box.width) * 100, false);
      };
      const stop = () => {
        delete this.dataset.dragging;
        handle.removeEventListener('pointermove', move);
        handle.removeEventListener('pointerup', stop);
        handle.removeEventListener('pointercancel', stop);
        this.#set(this.#percent, true);
      };
      handle.addEventListener('pointermove', move);
      handle.addEventListener('pointerup', stop);
      handle.addEventListener('pointercancel', stop);
    });

    handle.addEventListener('keydown', (event) => {
      const step = event.shiftKey ? KEY_STEP_PERCENT * 5 : KEY_STEP_PERCENT;
      const next =
        event.key === 'ArrowLeft' ? this.#percent - step
        : event.key === 'ArrowRight' ? this.#percent + step
        : event.key === 'Home' ? MIN_PERCENT
        : event.key === 'End' ? MAX_PERCENT
        : undefined;
      if (next === undefined) return;
      event.preventDefault();
      this.#set(next, true);
    });
  }

  #set(percent: number, remember: boolean): void {
    this.#percent = Math.min(MAX_PERCENT, Math.max(MIN_PERCENT, Math.round(percent * 10) / 10));
    this.style.setProperty('--split', `${this.#percent}%`);
    this.querySelector('.split__handle')?.setAttribute('aria-valuenow', String(Math.round(this.#percent)));
    if (remember) localStorage.setItem(STORAGE_KEY, String(this.#percent));
    this.dispatchEvent(new Event('split-change', { bubbles: true }));
  }
}
