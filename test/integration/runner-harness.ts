// Shared pieces of the runner's integration tests: a temporary site + manifest + state directory,
// a real runner on 127.0.0.1 port 0, and a page-like WebSocket client. Everything made here is
// removed by `dispose()`, which the tests call from `after`/`t.after` so it runs on failure too.

import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { indexCourse } from '../../runner/manifest.ts';
import { ProgressStore } from '../../runner/progress-store.ts';
import {
  decodeChannelFrame,
  encodeChannelFrame,
  FLOW_ACK_CHUNK_BYTES,
  parseServerMessage,
  PROTOCOL_VERSION,
  WEBSOCKET_PATH,
  type ClientMessage,
  type CourseManifest,
  type ServerMessage,
} from '../../runner/protocol.ts';
import { startRunner, type RunningRunner } from '../../runner/server.ts';
import type { Target } from '../../runner/target.ts';
import { LocalShellTarget } from '../../runner/targets/local-shell.ts';
import { WAIT_MS } from '../support/deadlines.ts';
import { newLearner as admitLearner } from '../../scripts/course-check/client.ts';

export { WAIT_MS };

export const LESSON = 'basics';
/** What the flood block prints: far more than the flow-control window, little enough to finish fast. */
export const FLOOD_BYTES = 4 * 1024 * 1024;

/** A small course: one lesson, two terminals, steps exercising every kind of check. */
export function fixtureManifest(): CourseManifest {
  const source = (line: number) => ({ file: 'lessons/basics.mdx', line });
  const block = (step: string, n: number, code: string, extra: Record<string, unknown> = {}) => ({
    id: `${LESSON}/${step}/${n}`,
    terminal: 'main',
    code,
    interrupt: false,
    source: source(10 + n),
    ...extra,
  });
  return {
    version: 1,
    lessons: [
      {
        id: LESSON,
        title: 'Basics',
        order: 1,
        terminals: [
          { name: 'main', title: 'Host' },
          { name: 'side', title: 'Side' },
        ],
        steps: [
          { id: `${LESSON}/exit`, title: 'Exit codes', checks: [], blocks: [
            block('exit', 1, 'true\n', { exitCode: 0 }),
            block('exit', 2, '(exit 3)\n', { exitCode: 3 }),
          ] },
          { id: `${LESSON}/wrong-exit`, title: 'Wrong exit', checks: [], blocks: [block('wrong-exit', 1, 'false\n', { exitCode: 0 })] },
          { id: `${LESSON}/heredoc`, title: 'Heredoc', checks: [], blocks: [
            block('heredoc', 1, "cat <<'EOF' | tr a-z A-Z\nfirst line\n\tsecond; line\nEOF\n", {
              exitCode: 0,
              expect: 'FIRST LINE\n[..]SECOND; LINE\n',
            }),
          ] },
          { id: `${LESSON}/output`, title: 'Output', checks: [], blocks: [
            block('output', 1, 'printf "alpha\\nbeta\\ngamma\\n"\n', { expect: 'alpha\n...\ngamma\n' }),
            block('output', 2, 'printf "one\\ntwo\\n"\n', { expect: 'one\nthree\n' }),
          ] },
          { id: `${LESSON}/stdin`, title: 'Stdin', checks: [], blocks: [
            block('stdin', 1, 'read -r name && echo "hello, $name"\n', { expect: 'world\nhello, [..]', exitCode: 0 }),
          ] },
          { id: `${LESSON}/sleep`, title: 'Interrupt', checks: [], blocks: [
            block('sleep', 1, 'sleep 600\n'),
            block('sleep', 2, 'echo after-interrupt\n', { interrupt: true, expect: 'after-interrupt' }),
          ] },
          { id: `${LESSON}/typed`, title: 'Typed', checks: [], blocks: [block('typed', 1, 'echo   typed-marker\n', { expect: 'typed-marker' })] },
          { id: `${LESSON}/state`, title: 'State', blocks: [block('state', 1, 'touch flag-file\n', { exitCode: 0 })], checks: [
            { command: 'test -f flag-file', terminal: 'main', timeoutMs: 3000, intervalMs: 50, description: 'flag-file exists', source: source(40) },
          ] },
          { id: `${LESSON}/poll`, title: 'Poll', blocks: [block('poll', 1, '( sleep 0.4; touch later-file ) &\n', { exitCode: 0 })], checks: [
            { command: 'test -f later-file', terminal: 'main', timeoutMs: 10000, intervalMs: 50, description: 'later-file appears', source: source(50) },
          ] },
          { id: `${LESSON}/flood`, title: 'Flood', checks: [], blocks: [block('flood', 1, `yes flood-line-of-text | head -c ${FLOOD_BYTES}\n`, { exitCode: 0 })] },
        ],
      },
    ],
  };
}

export type Fixture = {
  dir: string;
  siteDir: string;
  stateDir: string;
  runner: RunningRunner;
  store: ProgressStore;
  /** Stops the runner and starts a new one on the same state directory (a runner restart). */
  restart(): Promise<void>;
  dispose(): Promise<void>;
};

export async function startFixture(
  manifest: CourseManifest = fixtureManifest(),
  idleMs?: number,
  makeTarget: (stateDir: string) => Target = (stateDir) => new LocalShellTarget({ stateDir }),
): Promise<Fixture> {
  const dir = await mkdtemp(path.join(tmpdir(), 'runner-test-'));
  const siteDir = path.join(dir, 'site');
  const stateDir = path.join(dir, 'state');
  await mkdir(siteDir, { recursive: true });
  await writeFile(path.join(siteDir, 'index.html'), '<!doctype html><title>Fixture</title><p>home</p>\n');
  await writeFile(path.join(siteDir, 'course-manifest.json'), JSON.stringify(manifest));
  const indexed = indexCourse(manifest, 'fixture');
  if (!indexed.ok) throw new Error(`fixture manifest invalid: ${indexed.problems.join('; ')}`);
  let store: ProgressStore | undefined;
  let runner: RunningRunner | undefined;
  const stop = async () => {
    await runner?.close();
    store?.close();
    runner = undefined;
    store = undefined;
  };
  const dispose = async () => {
    await stop();
    await rm(dir, { recursive: true, force: true });
  };
  const start = async () => {
    store = ProgressStore.open(stateDir);
    runner = await startRunner({
      host: '127.0.0.1',
      port: 0,
      siteDir,
      course: indexed.course,
      store,
      target: makeTarget(stateDir),
      idleMs,
      log: () => {},
      startKey: FIXTURE_START_KEY,
    });
    fixture.runner = runner;
    fixture.store = store;
  };
  const fixture: Fixture = {
    dir,
    siteDir,
    stateDir,
    runner: undefined as unknown as RunningRunner,
    store: undefined as unknown as ProgressStore,
    restart: async () => {
      await stop();
      await start();
    },
    dispose,
  };
  try {
    await start();
  } catch (error) {
    await dispose();
    throw error;
  }
  return fixture;
}

/** The start key of every fixture runner (a real runner makes a random one per start). */
export const FIXTURE_START_KEY = 'fixture-start-key';

/** A learner admitted with the runner's start key, with the session token, as a page's first requests get them. */
export async function newLearner(runner: RunningRunner): Promise<{ cookie: string; token: string; learner: string }> {
  // (The learner id is the cookie value: 32 hex digits.)
  const { cookie, token, id } = await admitLearner(runner.startUrl!);
  return { cookie, token, learner: id };
}

export type PageOptions = { origin?: string; token?: string; cookie?: string; autoAck?: boolean };

/** A page as the browser client would be: JSON control frames, binary output per channel, acks. */
export class TestPage {
  readonly ws: WebSocket;
  readonly messages: ServerMessage[] = [];
  readonly #output = new Map<number, Buffer[]>();
  readonly #waiters = new Set<() => void>();
  autoAck: boolean;
  #unackedDrawn = new Map<number, number>();
  /** Binary bytes received per channel. */
  readonly received = new Map<number, number>();
  /** For each binary frame: its channel and how many JSON messages had arrived before it. */
  readonly binaryLog: { channel: number; afterMessages: number }[] = [];

  private constructor(ws: WebSocket, autoAck: boolean) {
    this.ws = ws;
    this.autoAck = autoAck;
    ws.on('message', (data, isBinary) => {
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (isBinary) {
        const frame = decodeChannelFrame(buffer);
        if (frame) {
          const list = this.#output.get(frame.channel) ?? [];
          list.push(Buffer.from(frame.data));
          this.#output.set(frame.channel, list);
          this.received.set(frame.channel, (this.received.get(frame.channel) ?? 0) + frame.data.byteLength);
          this.binaryLog.push({ channel: frame.channel, afterMessages: this.messages.length });
          if (this.autoAck) this.#ack(frame.channel, frame.data.byteLength);
        }
      } else {
        const parsed = parseServerMessage(buffer.toString('utf8'));
        if (!parsed.ok) throw new Error(`runner sent an invalid frame: ${parsed.message}`);
        this.messages.push(parsed.value);
      }
      for (const wake of this.#waiters) wake();
    });
    ws.on('close', () => {
      for (const wake of this.#waiters) wake();
    });
  }

  #ack(channel: number, bytes: number): void {
    const pending = (this.#unackedDrawn.get(channel) ?? 0) + bytes;
    if (pending >= FLOW_ACK_CHUNK_BYTES) {
      this.send({ type: 'ack', channel, bytes: pending });
      this.#unackedDrawn.set(channel, 0);
    } else {
      this.#unackedDrawn.set(channel, pending);
    }
  }

  /** Acknowledges everything received so far on a channel (a page that catches up). */
  ackAll(channel: number): void {
    const pending = this.#unackedDrawn.get(channel) ?? 0;
    this.#unackedDrawn.set(channel, 0);
    if (pending > 0) this.send({ type: 'ack', channel, bytes: pending });
  }

  static async connect(runner: RunningRunner, options: PageOptions = {}): Promise<TestPage> {
    const url = new URL(WEBSOCKET_PATH, runner.url.replace(/^http/, 'ws'));
    if (options.token !== undefined) url.searchParams.set('token', options.token);
    const headers: Record<string, string> = {};
    if (options.cookie) headers.cookie = options.cookie;
    const ws = new WebSocket(url, { origin: options.origin ?? runner.url.replace(/\/$/, ''), headers });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with HTTP ${res.statusCode}`)));
    });
    return new TestPage(ws, options.autoAck ?? true);
  }

  /** A connected page that said hello and got its welcome. */
  static async open(runner: RunningRunner, auth: { cookie: string; token: string }, options: PageOptions & { lesson?: string } = {}): Promise<TestPage> {
    const page = await TestPage.connect(runner, { ...auth, ...options });
    page.send({ type: 'hello', protocol: PROTOCOL_VERSION, lesson: options.lesson ?? LESSON });
    await page.waitFor((m) => m.type === 'welcome', 'welcome');
    return page;
  }

  send(message: ClientMessage | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  input(channel: number, text: string): void {
    this.ws.send(encodeChannelFrame(channel, Buffer.from(text, 'utf8')));
  }

  output(channel: number): string {
    return Buffer.concat(this.#output.get(channel) ?? []).toString('utf8');
  }

  /** Resolves with the first message (from index `from`) satisfying `test`; fails after WAIT_MS with what came. */
  async waitFor<T extends ServerMessage>(test: (m: ServerMessage) => m is T, what: string, from?: number, waitMs?: number): Promise<T>;
  async waitFor(test: (m: ServerMessage) => boolean, what: string, from?: number, waitMs?: number): Promise<ServerMessage>;
  async waitFor(test: (m: ServerMessage) => boolean, what: string, from = 0, waitMs = WAIT_MS): Promise<ServerMessage> {
    return await this.until(() => this.messages.slice(from).find(test), what, waitMs);
  }

  /** Polls `probe` on every frame until it returns something; fails after `waitMs`. */
  async until<T>(probe: () => T | undefined | null | false, what: string, waitMs = WAIT_MS): Promise<T> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const value = probe();
      if (value !== undefined && value !== null && value !== false) return value;
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`socket closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        const screens = [...this.#output.keys()].map((ch) => `channel ${ch} ends with:\n${JSON.stringify(this.output(ch).slice(-1500))}`);
        throw new Error(
          `timed out waiting for ${what}; frames so far:\n${this.messages.map((m) => JSON.stringify(m)).join('\n')}\n${screens.join('\n')}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 250));
        const self = this;
        function done() {
          clearTimeout(timer);
          self.#waiters.delete(done);
          resolve();
        }
        this.#waiters.add(done);
      });
    }
  }

  async openTerminal(terminal = 'main', size = { cols: 100, rows: 30 }): Promise<number> {
    const from = this.messages.length;
    this.send({ type: 'open', terminal, size });
    const opened = await this.waitFor((m) => m.type === 'opened' && m.terminal === terminal, `opened ${terminal}`, from);
    return (opened as Extract<ServerMessage, { type: 'opened' }>).channel;
  }

  /** Waits for a block's settled state (passed or failed) after index `from`. */
  async blockDone(block: string, from = 0): Promise<Extract<ServerMessage, { type: 'block' }>['status']> {
    const message = await this.waitFor(
      (m) => m.type === 'block' && m.status.block === block && (m.status.state === 'passed' || m.status.state === 'failed'),
      `block ${block} to settle`,
      from,
    );
    return (message as Extract<ServerMessage, { type: 'block' }>).status;
  }

  /** Waits for a step's settled state after index `from`; `waitMs` longer where a lab comes up first. */
  async stepDone(step: string, from = 0, waitMs = WAIT_MS): Promise<Extract<ServerMessage, { type: 'step' }>['status']> {
    const message = await this.waitFor(
      (m) => m.type === 'step' && m.status.step === step && (m.status.state === 'passed' || m.status.state === 'failed'),
      `step ${step} to settle`,
      from,
      waitMs,
    );
    return (message as Extract<ServerMessage, { type: 'step' }>).status;
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => this.ws.once('close', () => resolve()));
    this.ws.close();
    await closed;
  }
}

/** Polls a condition of the runner itself (no page involved) every few ms until it holds; fails after WAIT_MS. */
export async function pollUntil<T>(probe: () => T | undefined | null | false, what: string, everyMs = 10): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
