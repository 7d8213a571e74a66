// Keeps a terminal's screen in the progress store while its shell runs, so that after a runner
// killed with SIGKILL the learner sees again what they saw (runner/learner.ts draws it before the
// new shell's prompt). A screen is saved once the output has been quiet for SAVE_AFTER_QUIET_MS,
// and at least every SAVE_EVERY_MS while output keeps coming; a save is one serialization of the
// mirror and one row written, so a busy terminal costs a few a minute.

import type { SavedScreen } from './progress-store.ts';

export const SAVE_AFTER_QUIET_MS = 1000;
export const SAVE_EVERY_MS = 10_000;

export class ScreenKeeper {
  readonly #snapshot: () => Promise<SavedScreen>;
  readonly #save: (saved: SavedScreen) => void;
  #timer: NodeJS.Timeout | null = null;
  /** When the oldest change not yet saved happened. */
  #dirtySince: number | null = null;
  #disposed = false;

  constructor(snapshot: () => Promise<SavedScreen>, save: (saved: SavedScreen) => void) {
    this.#snapshot = snapshot;
    this.#save = save;
  }

  /** The screen changed (output, a command started or ended). */
  changed(now = Date.now()): void {
    if (this.#disposed) return;
    this.#dirtySince ??= now;
    if (this.#timer) clearTimeout(this.#timer);
    const delay = Math.max(0, Math.min(SAVE_AFTER_QUIET_MS, this.#dirtySince + SAVE_EVERY_MS - now));
    this.#timer = setTimeout(() => void this.#saveNow(), delay);
    this.#timer.unref();
  }

  async #saveNow(): Promise<void> {
    this.#timer = null;
    this.#dirtySince = null;
    const saved = await this.#snapshot();
    if (!this.#disposed) this.#save(saved);
  }

  /** Stops saving (the shell ended, or the runner ends it); a save under way is dropped. */
  dispose(): void {
    this.#disposed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

/** What the learner sees under a restored screen: the shell is new, and what was running ended. */
export function restartNote(running: string | undefined): string {
  const what = running ? `; ${JSON.stringify(running.trim())} was running and has ended` : '';
  return `\r\n\x1b[2m[the runner restarted, so this is a new shell${what}]\x1b[0m\r\n`;
}
