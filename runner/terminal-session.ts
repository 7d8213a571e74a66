// One learner's terminal: a pty running the target's shell, the shell-integration parser and command
// tracker, a headless xterm that mirrors the screen, the pages attached to it, flow control, and
// the queue of blocks waiting for the prompt.
//
// Flow control. Every attached page has an `unacked` count: bytes handed to it (batched, then sent)
// that it has not acknowledged as drawn. The pty is paused while any reason holds: a page above
// FLOW_HIGH_WATERMARK_BYTES (released once it acks below FLOW_LOW_WATERMARK_BYTES), or the mirror
// lagging behind by more than the same watermark (xterm parses asynchronously). With no page
// attached only the mirror paces the pty: the shell runs as fast as the headless xterm can parse,
// nothing piles up, and the screen a page gets on (re)connect includes all that output (within the
// scrollback). A paused pty makes the program block on write, so memory stays bounded either way.

import { readFileSync } from 'node:fs';
import headless from '@xterm/headless';
import serialize from '@xterm/addon-serialize';
import * as pty from 'node-pty';
import {
  encodeChannelFrame,
  FLOW_HIGH_WATERMARK_BYTES,
  FLOW_LOW_WATERMARK_BYTES,
  OUTPUT_BATCH_MS,
} from './protocol.ts';
import { CommandTracker, type FinishedCommand, type RunningCommand } from './command-tracker.ts';
import { ShellMarkParser } from './shell-marks.ts';
import type { ShellSpec } from './target.ts';

/** Lines of scrollback kept server-side and restored on reconnect. */
export const MIRROR_SCROLLBACK_LINES = 2000;
/** Blocks that may wait for one terminal's prompt; one more is refused with `terminal-busy`. */
export const MAX_QUEUED_BLOCKS = 8;

/**
 * Ctrl-C for an interrupting block. Bash prints the C mark (PS0) before it runs the command line,
 * so "started" is not yet "the command has the terminal": a Ctrl-C then reaches bash, which cancels
 * the rest of the line (or, between fork and handing over the terminal, nothing at all, and the
 * command runs on). So the Ctrl-C waits, polling every FOREGROUND_POLL_MS, until a process other
 * than the shell is in the foreground (at most FOREGROUND_WAIT_MS: a loop of builtins never hands
 * the terminal over), and is sent again every INTERRUPT_RETRY_MS while no prompt comes back, at
 * most MAX_INTERRUPT_RETRIES times.
 */
const FOREGROUND_POLL_MS = 20;
const FOREGROUND_WAIT_MS = 2000;
const INTERRUPT_RETRY_MS = 300;
const MAX_INTERRUPT_RETRIES = 5;

/** How long a shell gets to end after SIGHUP before SIGKILL. */
const KILL_GRACE_MS = 2000;

const CTRL_C = '\x03';
/**
 * Ctrl-A then Ctrl-K: start of line, then kill to its end, so a half-typed line does not prefix a
 * block. (Ctrl-U would ring the bell on an empty line.)
 */
const CLEAR_LINE = '\x01\x0b';
const PASTE_START = '\x1b[200~';
const PASTE_END = '\x1b[201~';

export type Attachment = {
  readonly channel: number;
  readonly send: (frame: Uint8Array) => void;
  unacked: number;
  /** Output waiting for the batch timer. */
  pending: string[];
  /** False until the restored screen went out; output meanwhile waits in `pending`. */
  ready: boolean;
};

export type Job = {
  code: string;
  interrupt: boolean;
  /** The command finished (or never ran: `error` says why). */
  onDone(result: { finished: FinishedCommand } | { error: string }): void;
};

export type SubmitResult = 'sent' | 'queued' | 'busy';

export type TerminalListener = {
  /** The shell printed something (the screen changed). */
  onOutput?(): void;
  onCommandStart?(command: RunningCommand, job: Job | undefined): void;
  onCommandDone?(command: FinishedCommand, job: Job | undefined): void;
  onExit?(exitCode: number | null): void;
};

export type TerminalSessionOptions = {
  spec: ShellSpec;
  nonce: string;
  cols: number;
  rows: number;
  listener: TerminalListener;
  /** Drawn before the shell's first output: the screen an earlier shell left (a runner restart). */
  restoredScreen?: string;
};

type InFlight = { job: Job; depth: number; started: RunningCommand | null };

export class TerminalSession {
  readonly #pty: pty.IPty;
  readonly #mirror: headless.Terminal;
  readonly #serializer: serialize.SerializeAddon;
  readonly #parser: ShellMarkParser;
  readonly #tracker: CommandTracker;
  readonly #listener: TerminalListener;
  readonly #attachments = new Set<Attachment>();
  readonly #pauseReasons = new Set<Attachment | 'mirror'>();
  #mirrorPending = 0;
  #batchTimer: NodeJS.Timeout | null = null;
  #queue: Job[] = [];
  #inFlight: InFlight | null = null;
  /** Ctrl-C is owed to the in-flight block as soon as it starts (it was typed but not yet running). */
  #interruptOnStart = false;
  #interruptRetry: NodeJS.Timeout | null = null;
  #commandInterruptTimer: NodeJS.Timeout | null = null;
  /** The terminal's foreground process group at the last prompt: the shell's. */
  #shellGroup: number | null = null;
  #exited = false;
  #processGone = false;
  #killTimer: NodeJS.Timeout | null = null;
  #disposed = false;
  #paused = false;

  constructor(options: TerminalSessionOptions) {
    this.#listener = options.listener;
    this.#parser = new ShellMarkParser(options.nonce);
    this.#mirror = new headless.Terminal({
      cols: options.cols,
      rows: options.rows,
      scrollback: MIRROR_SCROLLBACK_LINES,
      allowProposedApi: true,
    });
    this.#serializer = new serialize.SerializeAddon();
    this.#mirror.loadAddon(this.#serializer);
    if (options.restoredScreen) this.#mirror.write(options.restoredScreen);
    this.#tracker = new CommandTracker({
      onPrompt: () => this.#onPrompt(),
      onCommandStart: (command) => this.#onCommandStart(command),
      onCommandDone: (command) => this.#onCommandDone(command),
    });
    // Throws when the executable cannot be started; the caller turns that into `spawn-failed`.
    this.#pty = pty.spawn(options.spec.file, options.spec.args, {
      name: 'xterm-256color',
      cols: options.cols,
      rows: options.rows,
      cwd: options.spec.cwd,
      env: options.spec.env,
      encoding: 'utf8',
    });
    this.#pty.onData((data) => this.#onData(data));
    this.#pty.onExit(({ exitCode, signal }) => this.#onExit(signal ? null : exitCode));
  }

  get pid(): number {
    return this.#pty.pid;
  }
  get exited(): boolean {
    return this.#exited || this.#disposed;
  }
  get paused(): boolean {
    return this.#paused;
  }
  get atPrompt(): boolean {
    return this.#tracker.atPrompt && this.#inFlight === null;
  }
  /** The command line of the innermost command running now, as the shell reported it. */
  get runningCommand(): string | undefined {
    return this.#tracker.current?.commandLine;
  }
  get attachmentCount(): number {
    return this.#attachments.size;
  }
  /** Output handed to the mirror that it has not parsed yet. */
  get mirrorLagBytes(): number {
    return this.#mirrorPending;
  }
  /** Bytes held for pages and the mirror, not yet acknowledged: what flow control bounds. */
  get bufferedBytes(): number {
    let total = this.#mirrorPending;
    for (const a of this.#attachments) total += a.unacked;
    return total;
  }

  // -- output ------------------------------------------------------------------------------------

  #onData(data: string): void {
    if (this.#disposed) return;
    const events = this.#parser.push(data);
    for (const event of events) {
      if (event.kind === 'output') this.#output(event.text);
      this.#tracker.handle([event]);
    }
  }

  #output(text: string): void {
    this.#listener.onOutput?.();
    const bytes = Buffer.byteLength(text);
    this.#mirrorPending += bytes;
    this.#mirror.write(text, () => {
      this.#mirrorPending -= bytes;
      if (this.#mirrorPending < FLOW_LOW_WATERMARK_BYTES) this.#release('mirror');
    });
    if (this.#mirrorPending > FLOW_HIGH_WATERMARK_BYTES) this.#hold('mirror');
    for (const a of this.#attachments) {
      a.pending.push(text);
      a.unacked += bytes;
      if (a.unacked > FLOW_HIGH_WATERMARK_BYTES) this.#hold(a);
    }
    if (this.#batchTimer === null && this.#attachments.size > 0) {
      this.#batchTimer = setTimeout(() => this.#flush(), OUTPUT_BATCH_MS);
    }
  }

  #flushNow(): void {
    if (this.#batchTimer === null) return;
    clearTimeout(this.#batchTimer);
    this.#flush();
  }

  #flush(): void {
    this.#batchTimer = null;
    for (const a of this.#attachments) {
      if (!a.ready || a.pending.length === 0) continue;
      const text = a.pending.join('');
      a.pending = [];
      a.send(encodeChannelFrame(a.channel, Buffer.from(text, 'utf8')));
    }
  }

  #hold(reason: Attachment | 'mirror'): void {
    this.#pauseReasons.add(reason);
    if (!this.#paused && !this.#exited) {
      this.#paused = true;
      this.#pty.pause();
    }
  }

  #release(reason: Attachment | 'mirror'): void {
    this.#pauseReasons.delete(reason);
    if (this.#paused && this.#pauseReasons.size === 0 && !this.#exited) {
      this.#paused = false;
      this.#pty.resume();
    }
  }

  // -- pages -------------------------------------------------------------------------------------

  /**
   * Attaches a page on `channel`: `onReady` runs once the mirror has taken in everything the pty
   * produced so far, with the serialized screen; output from then on follows it, none lost.
   */
  attach(channel: number, send: (frame: Uint8Array) => void, onReady: (screen: string) => void): Attachment {
    const attachment: Attachment = { channel, send, unacked: 0, pending: [], ready: false };
    this.#attachments.add(attachment);
    // The write callback runs after every earlier write is parsed; output after this point goes to
    // `pending`, which is sent after the screen.
    this.#mirror.write('', () => {
      if (!this.#attachments.has(attachment)) return;
      const screen = this.#serializer.serialize({ scrollback: MIRROR_SCROLLBACK_LINES });
      onReady(screen);
      attachment.ready = true;
      this.#flush();
    });
    return attachment;
  }

  /** The screen as a page would get it now, and the command running, once the mirror has caught up. */
  snapshot(): Promise<{ screen: string; running?: string }> {
    return new Promise((resolve) => {
      this.#mirror.write('', () => {
        const running = this.runningCommand;
        resolve({ screen: this.#serializer.serialize({ scrollback: MIRROR_SCROLLBACK_LINES }), ...(running === undefined ? {} : { running }) });
      });
    });
  }

  /** Counts the restored screen against the page's window (it draws and acks it like output). */
  sendScreen(attachment: Attachment, screen: string): void {
    if (screen.length === 0) return;
    const data = Buffer.from(screen, 'utf8');
    attachment.unacked += data.byteLength;
    attachment.send(encodeChannelFrame(attachment.channel, data));
    if (attachment.unacked > FLOW_HIGH_WATERMARK_BYTES) this.#hold(attachment);
  }

  detach(attachment: Attachment): void {
    if (!this.#attachments.delete(attachment)) return;
    this.#release(attachment);
  }

  ack(attachment: Attachment, bytes: number): void {
    attachment.unacked = Math.max(0, attachment.unacked - bytes);
    if (attachment.unacked < FLOW_LOW_WATERMARK_BYTES) this.#release(attachment);
  }

  input(data: string): void {
    if (!this.exited) this.#pty.write(data);
  }

  interrupt(): void {
    this.input(CTRL_C);
  }

  /**
   * Ctrl-C for the running command, as the page's interrupt asks: once the command has the
   * terminal (polled, at most FOREGROUND_WAIT_MS, see there), so that a Ctrl-C right after the
   * command started is not lost to bash; at once when no command runs (a line being typed).
   */
  interruptCommand(since = performance.now()): void {
    if (this.#commandInterruptTimer) clearTimeout(this.#commandInterruptTimer);
    this.#commandInterruptTimer = null;
    if (this.exited) return;
    const running = !this.#tracker.atPrompt && this.#tracker.current !== undefined;
    const shellHasTerminal = this.#shellHasTerminal();
    if (running && shellHasTerminal && performance.now() - since < FOREGROUND_WAIT_MS) {
      this.#commandInterruptTimer = setTimeout(() => this.interruptCommand(since), FOREGROUND_POLL_MS);
      return;
    }
    this.interrupt();
  }

  resize(cols: number, rows: number): void {
    if (this.exited) return;
    this.#pty.resize(cols, rows);
    this.#mirror.resize(cols, rows);
  }

  // -- blocks ------------------------------------------------------------------------------------

  /** Types a block into the shell now if it waits at a prompt, else queues it (with Ctrl-C first if asked). */
  submit(job: Job): SubmitResult {
    if (this.exited) {
      job.onDone({ error: 'the terminal has exited' });
      return 'busy';
    }
    if (this.atPrompt && this.#queue.length === 0) {
      this.#send(job);
      return 'sent';
    }
    if (this.#queue.length >= MAX_QUEUED_BLOCKS) return 'busy';
    this.#queue.push(job);
    if (job.interrupt) {
      // A Ctrl-C while the previous block's line is still being read would cancel that line
      // instead of the command, so it waits for the command to start.
      if (this.#inFlight && this.#inFlight.started === null) this.#interruptOnStart = true;
      else if (!this.#tracker.atPrompt) this.#interruptFor(job, 0);
    }
    return 'queued';
  }

  #send(job: Job): void {
    const depth = this.#tracker.promptDepth ?? 0;
    this.#inFlight = { job, depth, started: null };
    const code = job.code.replace(/\r\n?/g, '\n').replace(/\n+$/, '');
    // A single plain line is typed; anything with a newline or a tab goes as one bracketed paste, so
    // readline neither runs it line by line nor completes on tabs: it runs exactly as if typed.
    const typed = /[\n\t]/.test(code) ? `${PASTE_START}${code}${PASTE_END}` : code;
    this.#pty.write(`${CLEAR_LINE}${typed}\r`);
  }

  /**
   * The terminal's foreground process group (tpgid in /proc/PID/stat of the pty's first process,
   * which every process on the terminal shares). A group, not a process name: between fork and
   * exec a command still carries the shell's name, and a nested bash always does.
   */
  #foregroundGroup(): number | null {
    try {
      const stat = readFileSync(`/proc/${this.#pty.pid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces or parentheses) start at ") ".
      const group = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[5]);
      return Number.isInteger(group) && group > 0 ? group : null;
    } catch {
      return null; // the pty's process is gone: the terminal is closing and the prompt check decides
    }
  }

  #shellHasTerminal(): boolean {
    return this.#shellGroup !== null && this.#foregroundGroup() === this.#shellGroup;
  }

  /** Ctrl-C for a queued interrupting job, once the command has the terminal, again while no prompt comes back. */
  #interruptFor(job: Job, retries: number, since = performance.now()): void {
    if (this.#interruptRetry) clearTimeout(this.#interruptRetry);
    this.#interruptRetry = null;
    if (this.exited || !this.#queue.includes(job) || this.#tracker.atPrompt) return;
    const shellHasTerminal = this.#shellHasTerminal();
    if (shellHasTerminal && performance.now() - since < FOREGROUND_WAIT_MS) {
      this.#interruptRetry = setTimeout(() => this.#interruptFor(job, retries, since), FOREGROUND_POLL_MS);
      return;
    }
    this.interrupt();
    if (retries >= MAX_INTERRUPT_RETRIES) return;
    this.#interruptRetry = setTimeout(() => this.#interruptFor(job, retries + 1), INTERRUPT_RETRY_MS);
  }

  #onPrompt(): void {
    const inFlight = this.#inFlight;
    this.#shellGroup = this.#foregroundGroup();
    this.#interruptOnStart = false;
    if (inFlight && inFlight.started === null) {
      // Back at a prompt without the block having started: bash refused it (a syntax error).
      this.#inFlight = null;
      inFlight.job.onDone({ error: 'the shell did not run the block (see the terminal for why)' });
    }
    const next = this.#queue.shift();
    if (next) this.#send(next);
  }

  #onCommandStart(command: RunningCommand): void {
    const inFlight = this.#inFlight;
    if (inFlight && inFlight.started === null && command.depth === inFlight.depth) {
      inFlight.started = command;
      this.#listener.onCommandStart?.(command, inFlight.job);
      if (this.#interruptOnStart) {
        this.#interruptOnStart = false;
        const waiting = this.#queue.find((queued) => queued.interrupt);
        if (waiting) this.#interruptFor(waiting, 0);
        else this.interrupt();
      }
      return;
    }
    this.#listener.onCommandStart?.(command, undefined);
  }

  #onCommandDone(command: FinishedCommand): void {
    // The command's output reaches the pages before anything said about the command.
    this.#flushNow();
    const inFlight = this.#inFlight;
    if (inFlight && inFlight.started && command.depth === inFlight.depth) {
      this.#inFlight = null;
      this.#listener.onCommandDone?.(command, inFlight.job);
      inFlight.job.onDone({ finished: command });
      return;
    }
    this.#listener.onCommandDone?.(command, undefined);
  }

  #failJobs(reason: string): void {
    const jobs = [...(this.#inFlight ? [this.#inFlight.job] : []), ...this.#queue];
    this.#inFlight = null;
    this.#queue = [];
    for (const job of jobs) job.onDone({ error: reason });
  }

  #onExit(exitCode: number | null): void {
    this.#processGone = true;
    if (this.#killTimer) clearTimeout(this.#killTimer);
    if (this.#exited) return;
    this.#exited = true;
    for (const event of this.#parser.flush()) if (event.kind === 'output') this.#output(event.text);
    this.#flush();
    this.#failJobs('the shell exited');
    this.#listener.onExit?.(exitCode);
  }

  #signal(signal: NodeJS.Signals): void {
    try {
      this.#pty.kill(signal);
    } catch (error) {
      // The process is already gone (ESRCH): nothing left to end.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }

  /** Resolves once the shell process is gone (immediately if it is). */
  async waitForExit(): Promise<void> {
    if (this.#processGone) return;
    await new Promise<void>((resolve) => {
      const subscription = this.#pty.onExit(() => {
        subscription.dispose();
        resolve();
      });
    });
  }

  /** Ends the shell and frees the mirror; idempotent. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    if (this.#batchTimer) clearTimeout(this.#batchTimer);
    this.#batchTimer = null;
    if (this.#interruptRetry) clearTimeout(this.#interruptRetry);
    this.#interruptRetry = null;
    if (this.#commandInterruptTimer) clearTimeout(this.#commandInterruptTimer);
    this.#commandInterruptTimer = null;
    this.#attachments.clear();
    this.#failJobs('the terminal was closed');
    this.#exited = true;
    if (!this.#processGone) {
      // SIGHUP, as a terminal closing does: bash passes it to its jobs and exits. A shell that
      // ignores it gets SIGKILL after a grace period.
      this.#signal('SIGHUP');
      this.#killTimer = setTimeout(() => {
        if (!this.#processGone) this.#signal('SIGKILL');
      }, KILL_GRACE_MS);
      this.#killTimer.unref();
    }
    this.#mirror.dispose();
  }
}
