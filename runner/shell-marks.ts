// Parses the shell-integration marks (see runner/shell-integration.bash) out of a pty's output.
//
// A mark is `ESC ] 133 ; <A|B|C|D> ; ... BEL` or `ESC ] 633 ; E ; ... BEL` (ST, `ESC \`, also ends
// one), carrying `n=<nonce>` and `d=<depth>`. Only marks with this shell's nonce count; any other
// OSC 133/633 sequence (a `cat` of a file that contains marks, another tool's integration) is left
// in the output untouched, where a terminal ignores it. Chunks from a pty can end anywhere, so a
// sequence that may still become a mark is held back until the next chunk completes or rules it out.

import { randomBytes } from 'node:crypto';
import {
  MARK_COMMAND_DONE,
  MARK_COMMAND_LINE,
  MARK_OUTPUT_START,
  MARK_PROMPT_END,
  MARK_PROMPT_START,
  OSC_COMMAND_LINE,
  OSC_FINAL_TERM,
} from './protocol.ts';


/**
 * The longest sequence still treated as a possible mark. The longest real one is an E mark for a
 * block of the largest allowed size (32 KiB, see protocol.ts) with every character escaped to 4.
 */
export const MAX_MARK_CHARS = 160 * 1024;

export type ShellMark =
  | { kind: 'prompt-start'; depth: number }
  | { kind: 'prompt-end'; depth: number }
  | { kind: 'command-line'; depth: number; commandLine: string }
  | { kind: 'output-start'; depth: number }
  | { kind: 'command-done'; depth: number; exitCode: number };

export type ShellEvent = { kind: 'output'; text: string } | { kind: 'mark'; mark: ShellMark };

/** A fresh per-shell nonce: 128 random bits, hex, so it needs no escaping anywhere. */
export function createShellNonce(): string {
  return randomBytes(16).toString('hex');
}

const INTRODUCERS = [`\x1b]${OSC_FINAL_TERM};`, `\x1b]${OSC_COMMAND_LINE};`];
const INTRODUCER_LENGTH = 6;
const BEL = '\x07';
const ST = '\x1b\\';

/** Reverses __runner_si_escape: `\\` and `\xHH`. */
export function unescapeMarkValue(value: string): string {
  return value.replace(/\\(\\|x[0-9a-fA-F]{2})/g, (_all, esc: string) =>
    esc === '\\' ? '\\' : String.fromCharCode(Number.parseInt(esc.slice(1), 16)),
  );
}

/** Escapes like the shell side does; used by tests to build marks. */
export function escapeMarkValue(value: string): string {
  return value.replace(/[\\;\x00-\x1f\x7f]/g, (ch) =>
    ch === '\\' ? '\\\\' : `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

export class ShellMarkParser {
  readonly #nonce: string;
  #held = '';

  constructor(nonce: string) {
    if (!/^[0-9a-zA-Z]{8,}$/.test(nonce)) {
      throw new Error(`shell nonce must be at least 8 letters or digits, got ${JSON.stringify(nonce)}`);
    }
    this.#nonce = nonce;
  }

  /** Feeds a chunk; returns the output and marks it completes, in order. */
  push(chunk: string): ShellEvent[] {
    const text = this.#held + chunk;
    this.#held = '';
    const events: ShellEvent[] = [];
    let outputFrom = 0;
    let pos = 0;
    const emitOutput = (end: number) => {
      if (end > outputFrom) events.push({ kind: 'output', text: text.slice(outputFrom, end) });
    };
    while (pos < text.length) {
      const esc = text.indexOf('\x1b', pos);
      if (esc === -1) break;
      const rest = text.length - esc;
      if (rest < INTRODUCER_LENGTH) {
        // Too short to tell: hold it back if it could still begin a mark.
        const tail = text.slice(esc);
        if (INTRODUCERS.some((intro) => intro.startsWith(tail))) {
          emitOutput(esc);
          this.#held = tail;
          return events;
        }
        pos = esc + 1;
        continue;
      }
      const intro = text.slice(esc, esc + INTRODUCER_LENGTH);
      if (!INTRODUCERS.includes(intro)) {
        pos = esc + 1;
        continue;
      }
      const end = findTerminator(text, esc + INTRODUCER_LENGTH);
      if (end === null) {
        if (rest <= MAX_MARK_CHARS) {
          emitOutput(esc);
          this.#held = text.slice(esc);
          return events;
        }
        // Far too long for one of ours: plain output.
        pos = esc + 1;
        continue;
      }
      const body = text.slice(esc + 2, end.start);
      const mark = this.#parseBody(body);
      if (mark) {
        emitOutput(esc);
        events.push({ kind: 'mark', mark });
        outputFrom = end.next;
      }
      pos = end.next;
    }
    emitOutput(text.length);
    return events;
  }

  /** Whatever is held back as a possible mark, released as output (the shell is gone). */
  flush(): ShellEvent[] {
    const held = this.#held;
    this.#held = '';
    return held ? [{ kind: 'output', text: held }] : [];
  }

  #parseBody(body: string): ShellMark | null {
    const parts = body.split(';');
    const [code, letter, ...fields] = parts;
    const positional: string[] = [];
    let nonce: string | undefined;
    let depth: number | undefined;
    for (const field of fields) {
      if (field.startsWith('n=')) nonce = field.slice(2);
      else if (field.startsWith('d=')) depth = /^\d{1,4}$/.test(field.slice(2)) ? Number(field.slice(2)) : undefined;
      else if (/^[a-z]=/.test(field)) continue; // a field for the shell's own use, such as r=
      else positional.push(field);
    }
    if (nonce !== this.#nonce || depth === undefined) return null;
    if (code === OSC_FINAL_TERM) {
      switch (letter) {
        case MARK_PROMPT_START:
          return { kind: 'prompt-start', depth };
        case MARK_PROMPT_END:
          return { kind: 'prompt-end', depth };
        case MARK_OUTPUT_START:
          return { kind: 'output-start', depth };
        case MARK_COMMAND_DONE: {
          const exit = positional[0];
          if (exit === undefined || !/^\d{1,3}$/.test(exit)) return null;
          return { kind: 'command-done', depth, exitCode: Number(exit) };
        }
        default:
          return null;
      }
    }
    if (code === OSC_COMMAND_LINE && letter === MARK_COMMAND_LINE && positional.length === 1) {
      return { kind: 'command-line', depth, commandLine: unescapeMarkValue(positional[0]!) };
    }
    return null;
  }
}

function findTerminator(text: string, from: number): { start: number; next: number } | null {
  const bel = text.indexOf(BEL, from);
  const st = text.indexOf(ST, from);
  if (bel === -1 && st === -1) return null;
  if (st === -1 || (bel !== -1 && bel < st)) return { start: bel, next: bel + 1 };
  return { start: st, next: st + 2 };
}
