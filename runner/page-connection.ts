// One page's WebSocket: every text frame parsed with the protocol's schemas before use, binary frames
// routed by channel to the terminal they were opened for. A bad frame is answered with an `error`
// frame and changes nothing else; only the transport's hard size cap closes the socket.

import type { WebSocket } from 'ws';
import type { Learner, PageLink } from './learner.ts';
import type { Course } from './manifest.ts';
import {
  decodeChannelFrame,
  MAX_INPUT_FRAME_BYTES,
  parseClientMessage,
  PROTOCOL_VERSION,
  type ClientMessage,
  type ErrorCode,
  type ServerMessage,
} from './protocol.ts';
import type { Attachment } from './terminal-session.ts';

/** Channels are one byte on the wire. */
const MAX_CHANNEL = 255;

export class PageConnection implements PageLink {
  lesson: string | null = null;
  readonly attachments = new Map<string, Attachment>();
  readonly #ws: WebSocket;
  readonly #learner: Learner;
  readonly #course: Course;
  readonly #log: (line: string) => void;
  #closed = false;
  #pending: Promise<void> = Promise.resolve();

  /** Ends the learner's lab and pages (the server's reset), for `reset-lab`. */
  readonly #resetLab: (clearProgress: boolean) => Promise<void>;

  constructor(ws: WebSocket, learner: Learner, course: Course, log: (line: string) => void, resetLab: (clearProgress: boolean) => Promise<void>) {
    this.#ws = ws;
    this.#learner = learner;
    this.#course = course;
    this.#log = log;
    this.#resetLab = resetLab;
    learner.addPage(this);
    ws.on('message', (data, isBinary) => {
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      // Frames are handled one after the other, in order: a `resize` or keystrokes sent right after
      // `open` wait until the terminal is open.
      this.#pending = this.#pending
        .then(() => this.#onFrame(buffer, isBinary))
        .catch((error: unknown) => {
          this.#log(`page of learner ${learner.id}: internal error: ${(error as Error).stack ?? String(error)}`);
          this.#error('internal', `the runner failed to handle that frame: ${(error as Error).message}`);
        });
    });
    ws.on('close', () => this.close());
    ws.on('error', (error) => {
      // A transport error (e.g. a frame above the hard cap) ends this socket only; 'close' follows.
      this.#log(`page of learner ${learner.id}: socket error: ${error.message}`);
    });
  }

  send(message: ServerMessage): void {
    if (this.#closed || this.#ws.readyState !== this.#ws.OPEN) return;
    this.#ws.send(JSON.stringify(message));
  }

  #sendBinary(frame: Uint8Array): void {
    if (this.#closed || this.#ws.readyState !== this.#ws.OPEN) return;
    this.#ws.send(frame, { binary: true });
  }

  #error(code: ErrorCode, message: string, ref?: string): void {
    this.send(ref === undefined ? { type: 'error', code, message } : { type: 'error', code, message, ref });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#learner.removePage(this);
    if (this.#ws.readyState === this.#ws.OPEN || this.#ws.readyState === this.#ws.CONNECTING) this.#ws.close(1001, 'runner closing');
  }

  async #onFrame(data: Buffer, isBinary: boolean): Promise<void> {
    if (isBinary) {
      this.#onInput(data);
      return;
    }
    const parsed = parseClientMessage(data.toString('utf8'));
    if (!parsed.ok) {
      this.#error(parsed.code, parsed.message);
      return;
    }
    await this.#onMessage(parsed.value);
  }

  #onInput(data: Buffer): void {
    if (data.byteLength - 1 > MAX_INPUT_FRAME_BYTES) {
      this.#error('frame-too-large', `input frame of ${data.byteLength - 1} bytes exceeds the limit of ${MAX_INPUT_FRAME_BYTES}`);
      return;
    }
    const frame = decodeChannelFrame(data);
    if (!frame) {
      this.#error('bad-frame', 'empty binary frame: a binary frame is one byte of channel, then the keystrokes');
      return;
    }
    const name = this.#terminalOnChannel(frame.channel);
    const terminal = name === undefined ? undefined : this.#learner.terminal(name);
    if (name === undefined || !terminal) {
      this.#error('bad-frame', `input for channel ${frame.channel}, which has no open terminal; open one first`);
      return;
    }
    terminal.input(Buffer.from(frame.data).toString('utf8'));
  }

  #terminalOnChannel(channel: number): string | undefined {
    for (const [name, attachment] of this.attachments) if (attachment.channel === channel) return name;
    return undefined;
  }

  #lessonTerminals(): string[] {
    return this.#course.lessons.get(this.lesson!)!.terminals.map((t) => t.name);
  }

  #checkTerminal(name: string): boolean {
    const terminals = this.#lessonTerminals();
    if (terminals.includes(name)) return true;
    this.#error('unknown-terminal', `Unknown terminal "${name}"; lesson "${this.lesson}" opens: ${terminals.join(', ')}`, name);
    return false;
  }

  async #onMessage(message: ClientMessage): Promise<void> {
    if (message.type === 'hello') {
      if (message.protocol !== PROTOCOL_VERSION) {
        this.#error('protocol-version', `page speaks protocol ${message.protocol}, this runner speaks ${PROTOCOL_VERSION}; reload the page`);
        return;
      }
      if (!this.#course.lessons.has(message.lesson)) {
        this.#error('unknown-lesson', `Unknown lesson "${message.lesson}"; this course has: ${[...this.#course.lessons.keys()].join(', ')}`, message.lesson);
        return;
      }
      this.#detachAll();
      this.lesson = message.lesson;
      const { steps, blocks } = this.#learner.lessonState(message.lesson);
      this.send({ type: 'welcome', protocol: PROTOCOL_VERSION, learner: this.#learner.id, lesson: message.lesson, steps, blocks });
      const startup = this.#learner.startup;
      if (startup) this.send({ type: 'startup', ...startup });
      return;
    }
    if (this.lesson === null) {
      this.#error('not-ready', `"${message.type}" before "hello": send hello with the protocol version and lesson first`);
      return;
    }
    switch (message.type) {
      case 'open':
        return await this.#open(message.terminal, message.size);
      case 'resize': {
        if (!this.#checkTerminal(message.terminal)) return;
        const terminal = this.#learner.terminal(message.terminal);
        if (!terminal || !this.attachments.has(message.terminal)) {
          this.#error('unknown-terminal', `terminal "${message.terminal}" is not open on this page; open it first`, message.terminal);
          return;
        }
        terminal.resize(message.size.cols, message.size.rows);
        return;
      }
      case 'run': {
        const indexed = this.#course.blocks.get(message.block);
        if (!indexed || indexed.lesson.id !== this.lesson) {
          this.#error('unknown-block', `Unknown block "${message.block}" in lesson "${this.lesson}"`, message.block);
          return;
        }
        const result = await this.#learner.runBlock(indexed, message.interrupt ?? indexed.block.interrupt);
        if (!result.ok) this.#error(result.code, result.message, message.block);
        return;
      }
      case 'interrupt': {
        if (!this.#checkTerminal(message.terminal)) return;
        this.#learner.terminal(message.terminal)?.interruptCommand();
        return;
      }
      case 'ack': {
        const name = this.#terminalOnChannel(message.channel);
        const attachment = name === undefined ? undefined : this.attachments.get(name);
        const terminal = name === undefined ? undefined : this.#learner.terminal(name);
        // An ack that races a terminal's exit is harmless; one for a channel never opened is a bug.
        if (attachment && terminal) terminal.ack(attachment, message.bytes);
        else if (attachment === undefined) this.#error('bad-frame', `ack for channel ${message.channel}, which has no open terminal`);
        return;
      }
      case 'reset-lesson':
        this.#learner.resetLesson(this.lesson);
        return;
      case 'retry-startup':
        this.#learner.retryStartup();
        return;
      case 'reset-lab':
        this.#log(`learner ${this.#learner.id}: resets their lab${message.clearProgress ? ' and clears their progress' : ''}`);
        await this.#resetLab(message.clearProgress);
        return;
      case 'watch-topology':
        this.#learner.topology.add(this);
        return;
      // Step verification and catch-up: neither holds up the frames after it (a verification
      // polls for a second, a catch-up runs for as long as the earlier lessons take).
      case 'verify-step': {
        const found = this.#course.steps.get(message.step);
        if (!found || found.lesson.id !== this.lesson) {
          const steps = this.#course.lessons.get(this.lesson)!.steps.map((s) => s.id);
          this.#error('unknown-step', `Unknown step "${message.step}" in lesson "${this.lesson}"; its steps: ${steps.join(', ') || '(none)'}`, message.step);
          return;
        }
        this.#learner
          .verifyStep(message.step)
          .then((result) => this.send(result))
          .catch((error: unknown) => {
            this.#log(`page of learner ${this.#learner.id}: verify ${message.step}: ${(error as Error).stack ?? String(error)}`);
            this.#error('internal', `the runner failed to verify ${message.step}: ${(error as Error).message}`, message.step);
          });
        return;
      }
      case 'catch-up': {
        const result = this.#learner.catchUp(this.lesson, message.step);
        if (!result.ok) this.#error(result.code, result.message, message.step ?? this.lesson);
        return;
      }
    }
  }

  async #open(name: string, size: { cols: number; rows: number }): Promise<void> {
    if (!this.#checkTerminal(name)) return;
    const opened = await this.#learner.openTerminal(name, size);
    if (this.#closed) return;
    if (!opened.ok) {
      this.#error(opened.code, opened.message, name);
      return;
    }
    const terminal = opened.terminal;
    const previous = this.attachments.get(name);
    if (previous) {
      this.#learner.terminal(name)?.detach(previous);
      this.attachments.delete(name);
    }
    const channel = this.#freeChannel(previous?.channel);
    if (channel === null) {
      this.#error('internal', `no free channel: at most ${MAX_CHANNEL + 1} terminals per page`, name);
      return;
    }
    terminal.resize(size.cols, size.rows);
    const attachment = terminal.attach(
      channel,
      (frame) => this.#sendBinary(frame),
      (screen) => {
        this.send({ type: 'opened', terminal: name, channel });
        terminal.sendScreen(attachment, screen);
      },
    );
    this.attachments.set(name, attachment);
  }

  #freeChannel(preferred: number | undefined): number | null {
    const used = new Set([...this.attachments.values()].map((a) => a.channel));
    if (preferred !== undefined && !used.has(preferred)) return preferred;
    for (let channel = 0; channel <= MAX_CHANNEL; channel++) if (!used.has(channel)) return channel;
    return null;
  }

  #detachAll(): void {
    for (const [name, attachment] of this.attachments) this.#learner.terminal(name)?.detach(attachment);
    this.attachments.clear();
  }
}
