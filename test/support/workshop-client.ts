// A scripted learner and instructor for workshop tests and the capacity bench: joins over HTTP
// like the join form, then speaks the lesson protocol and the instructor protocol over `ws`, with
// the Origin a browser on the runner's page would send.

import WebSocket from 'ws';
import {
  PROTOCOL_VERSION,
  SESSION_PATH,
  WEBSOCKET_PATH,
  WORKSHOP_INSTRUCTOR_WEBSOCKET_PATH,
  WORKSHOP_JOIN_PATH,
  parseInstructorServerMessage,
  parseServerMessage,
  sessionResponseSchema,
  type ClientMessage,
  type InstructorMessage,
  type InstructorServerMessage,
  type ServerMessage,
  type StepState,
  type WorkshopLearnerRow,
} from '../../runner/protocol.ts';
import { WAIT_MS } from './deadlines.ts';

export type WorkshopInfo = { joinUrl: string; code: string; dashboardUrl: string; key: string; base: string };

/** Reads the four lines the workshop command prints. */
export function parseWorkshopBanner(stdout: string): WorkshopInfo | null {
  const joinUrl = /^Join URL: (\S+)$/m.exec(stdout)?.[1];
  const code = /^Code: (\S+)$/m.exec(stdout)?.[1];
  const dashboardUrl = /^Dashboard: (\S+)$/m.exec(stdout)?.[1];
  if (!joinUrl || !code || !dashboardUrl) return null;
  const key = new URL(dashboardUrl).hash.replace(/^#key=/, '');
  return { joinUrl, code, dashboardUrl, key, base: new URL(dashboardUrl).origin };
}

/** Joins; returns the learner cookie (`learner=...`) or throws with the runner's answer. */
export async function join(base: string, code: string, name: string): Promise<string> {
  const response = await fetch(new URL(WORKSHOP_JOIN_PATH, base), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: new URL(base).origin },
    body: JSON.stringify({ code, name }),
  });
  if (!response.ok) throw new Error(`join as ${name} answered ${response.status}: ${await response.text()}`);
  const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0]!;
  if (!cookie.startsWith('learner=')) throw new Error(`join as ${name} set no learner cookie`);
  return cookie;
}

type Waiter<T> = { test: (m: T) => boolean; resolve: (m: T) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

class Inbox<T> {
  readonly messages: T[] = [];
  readonly #waiters = new Set<Waiter<T>>();
  readonly #listeners = new Set<(message: T) => void>();
  /** Calls `listener` with every message from now on. */
  listen(listener: (message: T) => void): void {
    this.#listeners.add(listener);
  }
  /** Keeps no history (a long bench would pile up every frame). */
  keep = true;
  push(message: T): void {
    for (const listener of this.#listeners) listener(message);
    if (this.keep) this.messages.push(message);
    for (const w of this.#waiters) {
      if (!w.test(message)) continue;
      clearTimeout(w.timer);
      this.#waiters.delete(w);
      w.resolve(message);
    }
  }
  /** The next message (from now on) that passes `test`. */
  next(test: (m: T) => boolean, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter<T> = {
        test,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }
  fail(error: Error): void {
    for (const w of this.#waiters) {
      clearTimeout(w.timer);
      w.reject(error);
    }
    this.#waiters.clear();
  }
}

/** One lesson page of a learner, without a browser. */
export class ScriptedLearner {
  readonly inbox = new Inbox<ServerMessage>();
  readonly #ws: WebSocket;
  readonly output = new Map<number, number>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data, isBinary) => {
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (isBinary) {
        const channel = buffer[0]!;
        const bytes = buffer.length - 1;
        this.output.set(channel, (this.output.get(channel) ?? 0) + bytes);
        // Drawn at once: acknowledge so flow control never pauses the shell.
        if (bytes > 0) this.send({ type: 'ack', channel, bytes });
        return;
      }
      const parsed = parseServerMessage(buffer.toString('utf8'));
      if (parsed.ok) this.inbox.push(parsed.value);
    });
    ws.on('close', () => this.inbox.fail(new Error('the lesson socket closed')));
  }

  static async connect(base: string, cookie: string, lesson: string): Promise<ScriptedLearner> {
    const response = await fetch(new URL(SESSION_PATH, base), { headers: { Cookie: cookie } });
    if (!response.ok) throw new Error(`${SESSION_PATH} answered ${response.status}: ${await response.text()}`);
    const { token } = sessionResponseSchema.parse(await response.json());
    const url = new URL(WEBSOCKET_PATH, base);
    url.protocol = 'ws:';
    url.searchParams.set('token', token);
    const ws = new WebSocket(url, { headers: { Origin: new URL(base).origin, Cookie: cookie } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`lesson socket refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
    const learner = new ScriptedLearner(ws);
    const welcome = learner.inbox.next((m) => m.type === 'welcome', WAIT_MS, 'welcome');
    learner.send({ type: 'hello', protocol: PROTOCOL_VERSION, lesson });
    await welcome;
    return learner;
  }

  send(message: ClientMessage): void {
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(message));
  }

  /** Runs a block and waits for its step to settle; returns the step's state. */
  async runBlock(block: string, step: string, timeoutMs: number): Promise<StepState> {
    const settled = this.inbox.next(
      (m) =>
        (m.type === 'step' && m.status.step === step && (m.status.state === 'passed' || m.status.state === 'failed')) ||
        (m.type === 'error' && m.ref === block),
      timeoutMs,
      `step ${step} to settle after block ${block}`,
    );
    this.send({ type: 'run', block });
    const message = await settled;
    if (message.type === 'error') throw new Error(`run ${block}: ${message.code}: ${message.message}`);
    return message.type === 'step' ? message.status.state : 'idle';
  }

  /** Opens a terminal of the lesson; resolves with its channel. */
  async open(terminal: string, timeoutMs: number): Promise<number> {
    const opened = this.inbox.next((m) => m.type === 'opened' && m.terminal === terminal, timeoutMs, `terminal ${terminal} to open`);
    this.send({ type: 'open', terminal, size: { cols: 120, rows: 30 } });
    const message = await opened;
    return message.type === 'opened' ? message.channel : -1;
  }

  /** Types into an open terminal, as keystrokes. */
  type(channel: number, text: string): void {
    const data = Buffer.from(text);
    this.#ws.send(Buffer.concat([Buffer.from([channel]), data]), { binary: true });
  }

  /**
   * Runs a step's blocks in order, each once the previous one has passed, and waits for the step
   * to settle (its state checks included). Returns the step's state and when it settled.
   */
  async runStep(step: { id: string; blocks: { id: string }[] }, timeoutMs: number): Promise<{ state: StepState; at: number }> {
    const settled = this.inbox.next(
      (m) => m.type === 'step' && m.status.step === step.id && (m.status.state === 'passed' || m.status.state === 'failed'),
      timeoutMs,
      `step ${step.id} to settle`,
    );
    settled.catch(() => undefined); // awaited below, unless a block fails first
    for (const block of step.blocks) {
      const done = this.inbox.next(
        (m) => (m.type === 'block' && m.status.block === block.id && (m.status.state === 'passed' || m.status.state === 'failed')) || (m.type === 'error' && m.ref === block.id),
        timeoutMs,
        `block ${block.id}`,
      );
      this.send({ type: 'run', block: block.id });
      const message = await done;
      if (message.type === 'error') throw new Error(`run ${block.id}: ${message.code}: ${message.message}`);
      if (message.type === 'block' && message.status.state === 'failed') break;
    }
    const message = await settled;
    return { state: message.type === 'step' ? message.status.state : 'idle', at: performance.now() };
  }

  close(): void {
    this.#ws.close();
  }
}

export class ScriptedInstructor {
  readonly inbox = new Inbox<InstructorServerMessage>();
  readonly #ws: WebSocket;
  binaryBytes = 0;
  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data, isBinary) => {
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (isBinary) {
        this.binaryBytes += buffer.length - 1;
        return;
      }
      const parsed = parseInstructorServerMessage(buffer.toString('utf8'));
      if (parsed.ok) this.inbox.push(parsed.value);
    });
    ws.on('close', () => this.inbox.fail(new Error('the instructor socket closed')));
  }

  static async connect(base: string, key: string): Promise<ScriptedInstructor> {
    const url = new URL(WORKSHOP_INSTRUCTOR_WEBSOCKET_PATH, base);
    url.protocol = 'ws:';
    url.searchParams.set('key', key);
    const ws = new WebSocket(url, { headers: { Origin: new URL(base).origin } });
    const instructor = new ScriptedInstructor(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`instructor socket refused: ${res.statusCode}`)));
      ws.once('error', reject);
    });
    return instructor;
  }

  send(message: InstructorMessage): void {
    this.#ws.send(JSON.stringify(message));
  }

  /** The room's learners as first sent on connect. */
  async learners(): Promise<WorkshopLearnerRow[]> {
    const found = this.inbox.messages.find((m) => m.type === 'learners') ?? (await this.inbox.next((m) => m.type === 'learners', WAIT_MS, 'the learners'));
    return found.type === 'learners' ? found.learners : [];
  }

  /** What a page would send as keystrokes: the instructor socket must refuse it. */
  sendBinary(data: Uint8Array): void {
    this.#ws.send(data, { binary: true });
  }

  close(): void {
    this.#ws.close();
  }
}
