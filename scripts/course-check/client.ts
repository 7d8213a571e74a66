// A learner's connection to a runner, through the same protocol and admission as a lesson page:
// a learner cookie admitted with the start key of the runner's URL, the per-start token from the
// session endpoint, an allowed Origin, `hello`
// for a lesson, every frame parsed with the protocol's schemas. Pty output is kept per terminal
// (plain text, for failure reports) and acknowledged as a page would, so flow control never stalls.

import WebSocket from 'ws';
import {
  decodeChannelFrame,
  FLOW_ACK_CHUNK_BYTES,
  ADMIT_PATH,
  LEARNER_COOKIE,
  parseServerMessage,
  PROTOCOL_VERSION,
  SESSION_PATH,
  START_KEY_PARAM,
  sessionResponseSchema,
  WEBSOCKET_PATH,
  type ClientMessage,
  type ServerMessage,
} from '../../runner/protocol.ts';

/** Terminal text kept per terminal for reports; older output is dropped. */
const MAX_TERMINAL_TEXT_CHARS = 256 * 1024;

export type Learner = { cookie: string; token: string; id: string };

/**
 * A new learner on the runner whose start URL (`http://…/#start=KEY`, as it printed) is `startUrl`:
 * admitted with the key, then given the runner's token, as a page is.
 */
export async function newLearner(startUrl: string): Promise<Learner> {
  const url = new URL(startUrl);
  const key = new URLSearchParams(url.hash.slice(1)).get(START_KEY_PARAM);
  if (!key) throw new Error(`${startUrl} has no #${START_KEY_PARAM}=KEY: use the URL the runner printed`);
  const headers = { 'Sec-Fetch-Site': 'same-origin' };
  const admit = await fetch(new URL(ADMIT_PATH, url), { method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify({ key }) });
  if (!admit.ok) throw new Error(`${new URL(ADMIT_PATH, url)} answered ${admit.status}: ${await admit.text()}`);
  const match = new RegExp(`${LEARNER_COOKIE}=([0-9a-f]+)`).exec(admit.headers.get('set-cookie') ?? '');
  if (!match) throw new Error(`the runner at ${url.origin} set no learner cookie`);
  const cookie = `${LEARNER_COOKIE}=${match[1]}`;
  const response = await fetch(new URL(SESSION_PATH, url), { headers: { ...headers, Cookie: cookie } });
  if (!response.ok) throw new Error(`${new URL(SESSION_PATH, url)} answered ${response.status}: ${await response.text()}`);
  const session = sessionResponseSchema.parse(await response.json());
  return { cookie, token: session.token, id: match[1]! };
}

type Waiter = () => void;

export class CourseClient {
  readonly lesson: string;
  readonly #ws: WebSocket;
  readonly messages: ServerMessage[] = [];
  /** When each of `messages` arrived (performance.now()), for timings. */
  readonly receivedAt: number[] = [];
  readonly #waiters = new Set<Waiter>();
  readonly #channels = new Map<number, string>();
  readonly #text = new Map<string, string>();
  readonly #unacked = new Map<number, number>();
  #closed = false;

  private constructor(ws: WebSocket, lesson: string) {
    this.#ws = ws;
    this.lesson = lesson;
    ws.on('message', (data, isBinary) => {
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (isBinary) this.#onOutput(buffer);
      else {
        const parsed = parseServerMessage(buffer.toString('utf8'));
        if (!parsed.ok) throw new Error(`the runner sent a frame this checker does not understand: ${parsed.message}`);
        const message = parsed.value;
        if (message.type === 'opened') this.#channels.set(message.channel, message.terminal);
        this.messages.push(message);
        this.receivedAt.push(performance.now());
      }
      for (const wake of this.#waiters) wake();
    });
    ws.on('close', () => {
      this.#closed = true;
      for (const wake of this.#waiters) wake();
    });
  }

  /** Connects as `learner` to the runner at `url` and says hello for `lesson`. */
  static async open(url: string, learner: Learner, lesson: string): Promise<CourseClient> {
    const wsUrl = new URL(WEBSOCKET_PATH, url.replace(/^http/, 'ws'));
    wsUrl.searchParams.set('token', learner.token);
    const ws = new WebSocket(wsUrl, { origin: new URL(url).origin, headers: { cookie: learner.cookie } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`the runner at ${url} refused the WebSocket with HTTP ${res.statusCode}`)));
    });
    const client = new CourseClient(ws, lesson);
    client.send({ type: 'hello', protocol: PROTOCOL_VERSION, lesson });
    const welcome = await client.waitFor((m) => m.type === 'welcome' || m.type === 'error', 30_000, `welcome for lesson ${lesson}`);
    if (welcome.type === 'error') throw new Error(`the runner refused lesson ${lesson}: ${welcome.message}`);
    return client;
  }

  #onOutput(buffer: Buffer): void {
    const frame = decodeChannelFrame(buffer);
    if (!frame) return;
    const terminal = this.#channels.get(frame.channel);
    if (terminal !== undefined) {
      const text = (this.#text.get(terminal) ?? '') + Buffer.from(frame.data).toString('utf8');
      this.#text.set(terminal, text.length > MAX_TERMINAL_TEXT_CHARS ? text.slice(-MAX_TERMINAL_TEXT_CHARS) : text);
    }
    // Acknowledged as drawn, in chunks, as the page does.
    const pending = (this.#unacked.get(frame.channel) ?? 0) + frame.data.byteLength;
    if (pending >= FLOW_ACK_CHUNK_BYTES) {
      this.send({ type: 'ack', channel: frame.channel, bytes: pending });
      this.#unacked.set(frame.channel, 0);
    } else this.#unacked.set(frame.channel, pending);
  }

  send(message: ClientMessage): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(message));
  }

  /** What a terminal showed on this connection, escape sequences removed. */
  terminalText(terminal: string): string {
    return plainText(this.#text.get(terminal) ?? '');
  }

  get terminals(): string[] {
    return [...this.#text.keys()];
  }

  /**
   * The first message from index `from` on that `test` accepts. Rejects after `timeoutMs` (or when
   * the socket closes) with `what`.
   */
  waitFor<T extends ServerMessage>(test: (m: ServerMessage) => m is T, timeoutMs: number, what: string, from?: number): Promise<T>;
  waitFor(test: (m: ServerMessage) => boolean, timeoutMs: number, what: string, from?: number): Promise<ServerMessage>;
  waitFor(test: (m: ServerMessage) => boolean, timeoutMs: number, what: string, from = 0): Promise<ServerMessage> {
    return new Promise((resolve, reject) => {
      let scanned = from;
      const timer = setTimeout(() => finish(new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`)), timeoutMs);
      const check = () => {
        for (; scanned < this.messages.length; scanned++) if (test(this.messages[scanned]!)) return finish(this.messages[scanned]!);
        if (this.#closed) finish(new Error(`the connection to the runner closed while waiting for ${what}`));
      };
      const finish = (result: ServerMessage | Error) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      this.#waiters.add(check);
      check();
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    const closed = new Promise<void>((resolve) => this.#ws.once('close', () => resolve()));
    this.#ws.close(1000, 'checker done');
    await closed;
  }
}

/** Terminal output as text: escape sequences out, CRLF as LF, a line redrawn after CR kept as drawn last. */
export function plainText(raw: string): string {
  return raw
    .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b\[[0-?]*[ -/]*[@-~]|\x1b[ -/]*[0-~]/g, '')
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => line.slice(line.lastIndexOf('\r') + 1))
    .join('\n');
}
