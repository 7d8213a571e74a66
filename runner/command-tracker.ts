// Turns a shell's marks (runner/shell-marks.ts) into commands: each one's line, output, exit code
// and duration, and whether the shell waits at a prompt. Nested interactive shells report their
// own marks one depth deeper; a command at depth d owns everything until its D mark at depth d,
// including the nested shell's prompts and commands, and a prompt at depth d ends anything deeper
// that never reported done (the nested shell exited while running `exit`).

import type { ShellEvent, ShellMark } from './shell-marks.ts';

/** A command's output kept for matching; beyond this the rest is counted, not kept. */
export const MAX_CAPTURED_OUTPUT_CHARS = 1024 * 1024;

export type RunningCommand = {
  /** Unique within this tracker, in start order. */
  id: number;
  depth: number;
  commandLine: string;
  startedAt: number;
  output: string;
  truncated: boolean;
};

/** `exitCode` is null for a command that ended without its D mark (a prompt came first: the mark was cut off). */
export type FinishedCommand = RunningCommand & { exitCode: number | null; durationMs: number };

export type TrackerListener = {
  /** The shell at `depth` shows its prompt and waits for input. */
  onPrompt?(depth: number): void;
  /** A command line starts running (output follows). */
  onCommandStart?(command: RunningCommand): void;
  onCommandDone?(command: FinishedCommand): void;
};

export class CommandTracker {
  readonly #listener: TrackerListener;
  readonly #now: () => number;
  /** Open commands, outermost first. */
  #open: RunningCommand[] = [];
  /** Lines reported by E marks, per depth, waiting for their C mark. */
  #pendingLine = new Map<number, string>();
  #promptDepth: number | null = null;
  /** An A mark was seen and its B not yet: readline redraws PS1, and with it B, while a line is edited. */
  #promptStarted = false;
  #nextId = 1;

  constructor(listener: TrackerListener, now: () => number = () => performance.now()) {
    this.#listener = listener;
    this.#now = now;
  }

  /** The depth of the shell waiting at its prompt, or null while a command runs or a prompt is drawn. */
  get promptDepth(): number | null {
    return this.#promptDepth;
  }

  get atPrompt(): boolean {
    return this.#promptDepth !== null;
  }

  /** The innermost running command, if any. */
  get current(): RunningCommand | undefined {
    return this.#open.at(-1);
  }

  handle(events: readonly ShellEvent[]): void {
    for (const event of events) {
      if (event.kind === 'output') this.#output(event.text);
      else this.#mark(event.mark);
    }
  }

  #output(text: string): void {
    for (const command of this.#open) {
      if (command.truncated) continue;
      const room = MAX_CAPTURED_OUTPUT_CHARS - command.output.length;
      if (text.length > room) {
        command.output += text.slice(0, room);
        command.truncated = true;
      } else {
        command.output += text;
      }
    }
  }

  /**
   * Ends the open commands at `depth` and deeper. With `report`, those whose D mark never came
   * before a prompt (a nested shell that exited, a Ctrl-C that cut the prompt's hook short) are
   * reported done with no exit code, innermost first, so nothing waits on them for ever. Without
   * it they end silently: the next line of a multi-line command starts (C) before any D, and the
   * command as a whole is reported by the last line's D.
   */
  #closeFrom(depth: number, report: boolean): void {
    const ended = this.#open.filter((c) => c.depth >= depth);
    this.#open = this.#open.filter((c) => c.depth < depth);
    for (const d of [...this.#pendingLine.keys()]) if (d > depth) this.#pendingLine.delete(d);
    if (!report) return;
    for (const command of ended.reverse()) {
      this.#listener.onCommandDone?.({ ...command, exitCode: null, durationMs: Math.max(0, this.#now() - command.startedAt) });
    }
  }

  #mark(mark: ShellMark): void {
    switch (mark.kind) {
      case 'prompt-start':
        this.#promptDepth = null;
        this.#promptStarted = true;
        this.#closeFrom(mark.depth, true);
        break;
      case 'prompt-end':
        // Only the B that completes a new prompt counts; a redraw repeats B at the same prompt.
        if (!this.#promptStarted) break;
        this.#promptStarted = false;
        this.#promptDepth = mark.depth;
        this.#listener.onPrompt?.(mark.depth);
        break;
      case 'command-line':
        this.#pendingLine.set(mark.depth, mark.commandLine);
        break;
      case 'output-start': {
        this.#promptDepth = null;
        this.#promptStarted = false;
        this.#closeFrom(mark.depth, false);
        const command: RunningCommand = {
          id: this.#nextId++,
          depth: mark.depth,
          commandLine: this.#pendingLine.get(mark.depth) ?? '',
          startedAt: this.#now(),
          output: '',
          truncated: false,
        };
        this.#pendingLine.delete(mark.depth);
        this.#open.push(command);
        this.#listener.onCommandStart?.(command);
        break;
      }
      case 'command-done': {
        const command = this.#open.find((c) => c.depth === mark.depth);
        if (command) this.#open = this.#open.filter((c) => c !== command);
        this.#closeFrom(mark.depth, true);
        if (command) {
          this.#listener.onCommandDone?.({
            ...command,
            exitCode: mark.exitCode,
            durationMs: Math.max(0, this.#now() - command.startedAt),
          });
        }
        break;
      }
    }
  }
}

/** Whitespace-normalised command text, for recognising a typed command as a block. */
export function normaliseCommand(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
