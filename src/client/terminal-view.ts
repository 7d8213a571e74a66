// One xterm per lesson terminal: fitted to its pane, keystrokes sent as binary input frames, resizes
// sent as `resize`, and every chunk of output acknowledged once xterm has drawn it (flow control).

import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { FLOW_ACK_CHUNK_BYTES } from '../../runner/protocol.ts';
import type { LessonSession } from './session.ts';

const encoder = new TextEncoder();

export class TerminalView {
  readonly name: string;
  readonly terminal: Terminal;
  readonly #fit = new FitAddon();
  readonly #session: LessonSession;
  readonly #disposables: Array<{ dispose(): void }> = [];
  #channel: number | undefined;
  /** Bytes drawn on the current channel and not yet acknowledged. */
  #unacked = 0;
  /** Set when the shell ended: the next key press asks for a new one (never a restart loop). */
  #onRestart: (() => void) | undefined;

  constructor(name: string, element: HTMLElement, session: LessonSession) {
    this.name = name;
    this.#session = session;
    this.terminal = new Terminal({
      cursorBlink: true,
      fontFamily: '"JetBrains Mono", "SFMono-Regular", ui-monospace, Menlo, Consolas, monospace',
      fontSize: 13,
      lineHeight: 1.2,
      scrollback: 5000,
      theme: {
        background: '#101624',
        foreground: '#d7dde8',
        cursor: '#8fb4ff',
        selectionBackground: '#2c3e66',
        scrollbarSliderBackground: 'rgba(215, 221, 232, 0.12)',
        scrollbarSliderHoverBackground: 'rgba(215, 221, 232, 0.22)',
        scrollbarSliderActiveBackground: 'rgba(215, 221, 232, 0.3)',
        black: '#1b2233', red: '#f07178', green: '#9ece6a', yellow: '#e0af68',
        blue: '#7aa2f7', magenta: '#bb9af7', cyan: '#7dcfff', white: '#c0caf5',
        brightBlack: '#56607a', brightRed: '#ff8b92', brightGreen: '#b9f27c', brightYellow: '#ffc777',
        brightBlue: '#8fb4ff', brightMagenta: '#c7a9ff', brightCyan: '#a4e3ff', brightWhite: '#e8ecf7',
      },
    });
    this.terminal.loadAddon(this.#fit);
    this.terminal.open(element);
    this.#disposables.push(
      this.terminal.onData((data) => this.#input(data)),
      this.terminal.onBinary((data) => this.#input(data, true)),
      this.terminal.onResize((size) => {
        if (this.#channel !== undefined) this.#session.send({ type: 'resize', terminal: this.name, size });
      }),
    );
    const observer = new ResizeObserver(() => this.fit());
    observer.observe(element);
    this.#disposables.push({ dispose: () => observer.disconnect() });
  }

  get channel(): number | undefined {
    return this.#channel;
  }

  get size(): { cols: number; rows: number } {
    return { cols: this.terminal.cols, rows: this.terminal.rows };
  }

  /** Fits the terminal to its pane (a background tab's pane keeps its size); a pane not laid out is left alone. */
  fit(): void {
    const element = this.terminal.element;
    if (!element || element.offsetParent === null || element.clientWidth === 0) return;
    try {
      this.#fit.fit();
    } catch (error) {
      // The fit addon throws while the renderer has not measured a cell yet; the next resize fits.
      console.debug(`terminal ${this.name}: fit deferred`, error);
    }
  }

  /** The runner attached this terminal on `channel`; the restored screen follows, so start clean. */
  attach(channel: number): void {
    this.#channel = channel;
    this.#unacked = 0;
    this.#onRestart = undefined;
    this.terminal.reset();
  }

  detach(): void {
    this.#channel = undefined;
    this.#unacked = 0;
  }

  /** The shell ended: say so, and start a new one when the learner presses a key. */
  ended(exitCode: number | null, restart: () => void): void {
    this.detach();
    const how = exitCode === null ? '' : ` with exit code ${exitCode}`;
    this.terminal.write(`\r\n\x1b[2m[the shell ended${how}; press any key to start a new one]\x1b[0m\r\n`);
    this.#onRestart = restart;
  }

  write(data: Uint8Array): void {
    const channel = this.#channel;
    const bytes = data.byteLength;
    this.terminal.write(data, () => this.#drawn(channel, bytes));
  }

  focus(): void {
    this.terminal.focus();
  }

  /** The visible screen and scrollback as plain text (for tests and bug reports). */
  text(): string {
    const buffer = this.terminal.buffer.active;
    const lines: string[] = [];
    for (let index = 0; index < buffer.length; index += 1) lines.push(buffer.getLine(index)?.translateToString(true) ?? '');
    return lines.join('\n').replace(/\n+$/, '');
  }

  dispose(): void {
    for (const disposable of this.#disposables.splice(0)) disposable.dispose();
    this.terminal.dispose();
  }

  #drawn(channel: number | undefined, bytes: number): void {
    // Output written before a reconnect belongs to a channel the runner has forgotten.
    if (channel === undefined || channel !== this.#channel) return;
    this.#unacked += bytes;
    if (this.#unacked >= FLOW_ACK_CHUNK_BYTES) {
      if (this.#session.send({ type: 'ack', channel, bytes: this.#unacked })) this.#unacked = 0;
    }
  }

  #input(data: string, binary = false): void {
    if (this.#channel === undefined) {
      const restart = this.#onRestart;
      this.#onRestart = undefined;
      restart?.();
      return;
    }
    const bytes = binary ? Uint8Array.from(data, (char) => char.charCodeAt(0) & 0xff) : encoder.encode(data);
    this.#session.sendInput(this.#channel, bytes);
  }
}
