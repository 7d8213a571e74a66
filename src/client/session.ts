// The page's WebSocket session with the runner: fetches the per-start token, says hello for the
// lesson, reconnects with backoff when the connection drops, and parses every frame with the
// protocol's parsers before anyone sees it.

import {
  PROTOCOL_VERSION,
  SESSION_PATH,
  WEBSOCKET_PATH,
  decodeChannelFrame,
  encodeChannelFrame,
  parseServerMessage,
  sessionResponseSchema,
  type ClientMessage,
  type ServerMessage,
} from '../../runner/protocol.ts';
import { admitted } from './admission.ts';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting';

export type SessionHandlers = {
  state(state: ConnectionState, detail: string): void;
  message(message: ServerMessage): void;
  output(channel: number, data: Uint8Array): void;
  /** A frame the page could not understand, or a failure to reach the runner. */
  problem(message: string): void;
};

/** First retry soon: a reload of the runner takes well under a second. */
const RETRY_FIRST_MS = 250;
/** Never wait longer than this between attempts, so a restarted runner is found quickly. */
const RETRY_MAX_MS = 5_000;

export class LessonSession {
  readonly #lesson: string;
  readonly #handlers: SessionHandlers;
  #socket: WebSocket | undefined;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;
  #welcomed = false;
  /** The runner's last refusal of a session (not admitted, not joined), shown once. */
  #refusal: string | undefined;
  state: ConnectionState = 'connecting';

  constructor(lesson: string, handlers: SessionHandlers) {
    this.#lesson = lesson;
    this.#handlers = handlers;
  }

  start(): void {
    void this.#connect();
  }

  get ready(): boolean {
    return this.#welcomed && this.#socket?.readyState === WebSocket.OPEN;
  }

  send(message: ClientMessage): boolean {
    if (this.#socket?.readyState !== WebSocket.OPEN) return false;
    this.#socket.send(JSON.stringify(message));
    return true;
  }

  sendInput(channel: number, data: Uint8Array): boolean {
    if (!this.ready) return false;
    // encodeChannelFrame allocates a fresh ArrayBuffer, never a shared one.
    this.#socket!.send(encodeChannelFrame(channel, data) as Uint8Array<ArrayBuffer>);
    return true;
  }

  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#retryTimer);
    this.#socket?.close(1000, 'page closed');
  }

  #setState(state: ConnectionState, detail: string): void {
    this.state = state;
    this.#handlers.state(state, detail);
  }

  async #connect(): Promise<void> {
    if (this.#disposed) return;
    this.#welcomed = false;
    this.#setState(this.#attempt === 0 ? 'connecting' : 'reconnecting', this.#attempt === 0 ? 'Connecting…' : 'Reconnecting…');
    let token: string;
    try {
      await admitted;
      const response = await fetch(SESSION_PATH, { credentials: 'same-origin', cache: 'no-store' });
      if (response.status === 403) {
        // Not admitted (or not joined): the runner says what to do, and retrying will not change it
        // until the learner does.
        const refusal = (await response.json().catch(() => ({}))) as { error?: string };
        const message = refusal.error ?? `${SESSION_PATH} answered 403`;
        // Said on the page once, not only in the badge's tooltip: the learner has something to do.
        if (message !== this.#refusal) this.#handlers.problem(message);
        this.#refusal = message;
        throw new Error(message);
      }
      if (!response.ok) throw new Error(`${SESSION_PATH} answered ${response.status} ${response.statusText}`);
      const session = sessionResponseSchema.safeParse(await response.json());
      if (!session.success) throw new Error(`${SESSION_PATH} sent an unexpected answer: ${session.error.message}`);
      token = session.data.token;
    } catch (error) {
      this.#scheduleRetry(`Cannot reach the runner (${(error as Error).message})`);
      return;
    }
    if (this.#disposed) return;

    const url = new URL(WEBSOCKET_PATH, location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('token', token);
    const socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    this.#socket = socket;

    socket.addEventListener('open', () => {
      this.send({ type: 'hello', protocol: PROTOCOL_VERSION, lesson: this.#lesson });
    });
    socket.addEventListener('message', (event: MessageEvent<string | ArrayBuffer>) => {
      if (typeof event.data !== 'string') {
        const frame = decodeChannelFrame(new Uint8Array(event.data));
        if (frame) this.#handlers.output(frame.channel, frame.data);
        return;
      }
      const parsed = parseServerMessage(event.data);
      if (!parsed.ok) {
        this.#handlers.problem(`The runner sent a frame this page does not understand: ${parsed.message}`);
        return;
      }
      if (parsed.value.type === 'welcome') {
        this.#refusal = undefined;
        this.#welcomed = true;
        this.#attempt = 0;
        this.#setState('connected', 'Connected');
      }
      this.#handlers.message(parsed.value);
    });
    socket.addEventListener('close', (event) => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#welcomed = false;
      const reason = event.reason ? `: ${event.reason}` : '';
      this.#scheduleRetry(`Connection closed (${event.code}${reason})`);
    });
    // An `error` event is always followed by `close`, which schedules the retry.
  }

  #scheduleRetry(detail: string): void {
    if (this.#disposed) return;
    const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** this.#attempt) * (0.75 + Math.random() * 0.5);
    this.#attempt += 1;
    this.#setState('reconnecting', detail);
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => void this.#connect(), delay);
  }
}
