// Workshop mode, plugged into the runner's server (RunnerExtension): the join endpoint, which
// learners may have a session, the learners' workshop sockets (notices, locks), the instructor's
// socket (the live grid, watching a terminal read-only, hints, resets, locks) and the export.
// Everything that must survive a restart is in the WorkshopStore and the ProgressStore.

import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Learner } from '../learner.ts';
import type { Course, IndexedBlock } from '../manifest.ts';
import type { ProgressStore } from '../progress-store.ts';
import {
  encodeChannelFrame,
  LEARNER_COOKIE,
  MAX_CONTROL_FRAME_BYTES,
  parseInstructorMessage,
  workshopCodeSchema,
  workshopDisplayNameSchema,
  workshopJoinRequestSchema,
  WORKSHOP_EXPORT_PATH,
  WORKSHOP_INSTRUCTOR_WEBSOCKET_PATH,
  WORKSHOP_JOIN_PATH,
  WORKSHOP_LEARNER_WEBSOCKET_PATH,
  WORKSHOP_STATUS_PATH,
  type ErrorCode,
  type InstructorMessage,
  type InstructorServerMessage,
  type StepStatus,
  type WorkshopLearnerMessage,
  type WorkshopLearnerRow,
  type WorkshopRoom,
  type WorkshopStatusResponse,
} from '../protocol.ts';
import type { RunnerExtension, RunningRunner } from '../server.ts';
import type { Attachment, TerminalSession } from '../terminal-session.ts';
import { resultsCsv, resultsJson } from './export.ts';
import { TokenBuckets, type BucketOptions } from './rate-limit.ts';
import { readJsonBody } from '../request-body.ts';
import { matchesSecretHash, sameSecret } from '../secret.ts';
import type { NoticeRecord, WorkshopLearnerRecord, WorkshopRecord, WorkshopStore } from './store.ts';

/** A learner's cookie lives this long, so that a browser restarted during the day still resumes. */
const LEARNER_COOKIE_MAX_AGE_S = 7 * 24 * 3600;
/** A room bigger than this is a mistake or an attack; the join answers 403 past it. */
export const MAX_LEARNERS = 200;
/** Join attempts per client address: a burst of 20, then one every 3 s; a wrong code costs 5. */
export const JOIN_PER_ADDRESS = { capacity: 20, refillPerSecond: 1 / 3 } as const;
export const WRONG_CODE_COST = 5;
/** Join attempts for the whole room: 50 people joining in the first minute fit in the burst. */
export const JOIN_GLOBAL = { capacity: 100, refillPerSecond: 2 } as const;
/** A join request body: `{code, name}` is a few dozen bytes. */
const MAX_JOIN_BODY_BYTES = 4096;
/** Dashboard updates are coalesced over this long, so a burst of step changes is one frame per learner. */
const DASHBOARD_FLUSH_MS = 50;
/** Notices sent again to a page that (re)connects; older ones were seen or no longer matter. */
const RECENT_NOTICES = 10;
/** A failing check's diff shown on the dashboard is cut to this. */
const MAX_DIFF_CHARS = 4000;
/** A watched terminal whose output the dashboard cannot keep up with is dropped rather than slow the learner. */
const WATCH_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Last-seen times are written at most this often per learner. */
const SEEN_WRITE_MS = 30_000;

export type WorkshopOptions = {
  store: WorkshopStore;
  progress: ProgressStore;
  course: Course;
  workshop: WorkshopRecord;
  /** Where learners join (printed and shown on the dashboard). */
  joinUrl: string;
  /**
   * After a reset: takes down whatever of the learner's lab the runner did not hold (a lab that
   * outlived a crashed runner and that the learner has not used since the restart).
   */
  releaseLab?: (learner: string) => Promise<void>;
  /** Join attempts allowed per client address (default JOIN_PER_ADDRESS); raise it for a room behind one NAT. */
  joinPerAddress?: BucketOptions;
  log?: (line: string) => void;
};

export function newWorkshopCode(alphabet: string): string {
  const bytes = randomBytes(6);
  // 256 is not a multiple of the alphabet's size; the bias (a few percent) does not matter for a
  // code that is rate-limited and only lives for a day.
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(text);
}

function refuseUpgrade(socket: Duplex, status: 403): void {
  socket.end(`HTTP/1.1 ${status} Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

type Watch = { learner: string; seat: string; terminal: string; session: TerminalSession; attachment: Attachment };

class InstructorSocket {
  readonly ws: WebSocket;
  watch: Watch | null = null;
  constructor(ws: WebSocket) {
    this.ws = ws;
  }
  send(message: InstructorServerMessage): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(message));
  }
}

export class Workshop implements RunnerExtension {
  readonly #store: WorkshopStore;
  readonly #progress: ProgressStore;
  readonly #course: Course;
  readonly #workshop: WorkshopRecord;
  readonly #joinUrl: string;
  readonly #log: (line: string) => void;
  readonly #releaseLab: WorkshopOptions['releaseLab'];
  #runner: RunningRunner | null = null;
  readonly #learners = new Map<string, WorkshopLearnerRecord>();
  readonly #bySeat = new Map<string, string>();
  readonly #locked: Set<string>;
  /** When each lesson was last opened to the room: nobody has been on its first step for longer. */
  readonly #openedAt = new Map<string, number>();
  readonly #resetting = new Set<string>();
  /** Learners whose catch-up the instructor started: its blocks may run in locked lessons. */
  readonly #catchingUp = new Set<string>();
  readonly #learnerSockets = new Map<string, Set<WebSocket>>();
  readonly #instructors = new Set<InstructorSocket>();
  readonly #dirty = new Set<string>();
  #flushTimer: NodeJS.Timeout | null = null;
  readonly #lastSeenWrite = new Map<string, number>();
  readonly #perAddress: TokenBuckets;
  readonly #global = new TokenBuckets(JOIN_GLOBAL);
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 4 * MAX_CONTROL_FRAME_BYTES });
  /** Lesson ids in course order. */
  readonly #lessonOrder: string[];

  constructor(options: WorkshopOptions) {
    this.#store = options.store;
    this.#progress = options.progress;
    this.#course = options.course;
    this.#workshop = options.workshop;
    this.#joinUrl = options.joinUrl;
    this.#perAddress = new TokenBuckets(options.joinPerAddress ?? JOIN_PER_ADDRESS);
    this.#releaseLab = options.releaseLab;
    this.#log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.#locked = new Set(options.workshop.locked.filter((id) => this.#course.lessons.has(id)));
    this.#lessonOrder = [...this.#course.manifest.lessons].sort((a, b) => a.order - b.order).map((l) => l.id);
    for (const record of this.#store.learners(this.#workshop.id)) {
      this.#learners.set(record.learner, record);
      this.#bySeat.set(record.seat, record.learner);
    }
  }

  get workshop(): WorkshopRecord {
    return this.#workshop;
  }
  get learnerCount(): number {
    return this.#learners.size;
  }
  /** Every learner who joined (their cookie ids: for the runner's own use, never sent out). */
  learnerIds(): string[] {
    return [...this.#learners.keys()];
  }

  started(runner: RunningRunner): void {
    this.#runner = runner;
  }

  /** Closes the workshop's sockets (the runner closes the rest). */
  close(): void {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    for (const instructor of this.#instructors) this.#endWatch(instructor, 'the runner is stopping');
    for (const client of this.#wss.clients) client.terminate();
    this.#wss.close();
  }

  // -- admission -----------------------------------------------------------------------------

  refuseLearner(learner: string): string | null {
    if (!this.#learners.has(learner)) return `This is a workshop: join it first at /join/ with the code on the instructor's screen.`;
    if (this.#resetting.has(learner)) return 'Your lab is being reset; this page reconnects by itself in a moment.';
    return null;
  }

  refuseRun = (_learner: Learner, block: IndexedBlock): { code: ErrorCode; message: string } | null => {
    if (!this.#locked.has(block.lesson.id) || this.#catchingUp.has(_learner.id)) return null;
    return {
      code: 'lesson-locked',
      message: `Lesson "${block.lesson.title}" is not open yet: the instructor opens it when the room gets there.`,
    };
  };

  onChange = (learner: Learner): void => {
    if (!this.#learners.has(learner.id)) return;
    this.#dirty.add(learner.id);
    this.#flushTimer ??= setTimeout(() => this.#flush(), DASHBOARD_FLUSH_MS);
  };

  // -- HTTP ------------------------------------------------------------------------------------

  async http(req: IncomingMessage, res: ServerResponse, url: URL, learner: string): Promise<boolean> {
    if (url.pathname === WORKSHOP_STATUS_PATH) {
      const record = this.#learners.get(learner);
      const body: WorkshopStatusResponse = { active: true, workshop: this.#workshop.name };
      if (record) body.joinedAs = record.name;
      sendJson(res, 200, body);
      return true;
    }
    if (url.pathname === WORKSHOP_JOIN_PATH) {
      await this.#join(req, res, learner);
      return true;
    }
    if (url.pathname === WORKSHOP_EXPORT_PATH) {
      this.#export(req, res, url);
      return true;
    }
    if (url.pathname.startsWith('/api/workshop/')) {
      sendJson(res, 404, { error: `No workshop endpoint ${url.pathname}; there are ${WORKSHOP_STATUS_PATH}, ${WORKSHOP_JOIN_PATH}, ${WORKSHOP_EXPORT_PATH}` });
      return true;
    }
    return false;
  }

  #sameOrigin(req: IncomingMessage): boolean {
    const site = req.headers['sec-fetch-site'];
    const origin = req.headers.origin;
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
    return origin === undefined || this.#runner!.originAllowed(origin);
  }

  async #join(req: IncomingMessage, res: ServerResponse, cookieLearner: string): Promise<void> {
    if (req.method !== 'POST') {
      sendJson(res, 405, { error: `${WORKSHOP_JOIN_PATH} takes POST {code, name}` }, { Allow: 'POST' });
      return;
    }
    if (!this.#sameOrigin(req)) {
      sendJson(res, 403, { error: 'cross-site join refused' });
      return;
    }
    const address = req.socket.remoteAddress ?? 'unknown';
    // The address's own bucket first: an address refused there spends nothing of the room's, so
    // one client cannot lock everybody else out of the join.
    const wait = this.#perAddress.take(address) || this.#global.take('room');
    if (wait > 0) {
      sendJson(res, 429, { error: `Too many attempts to join; try again in ${wait} s.` }, { 'Retry-After': String(wait) });
      return;
    }
    const request = workshopJoinRequestSchema.safeParse(await readJsonBody(req, MAX_JOIN_BODY_BYTES));
    if (!request.success) {
      sendJson(res, 400, { error: `The join request must be JSON {"code": "...", "name": "..."} of at most ${MAX_JOIN_BODY_BYTES} bytes.` });
      return;
    }
    const code = workshopCodeSchema.safeParse(request.data.code);
    // Compared whatever its shape, in constant time, so that the answer's timing says nothing.
    const codeOk = sameSecret(code.success ? code.data : request.data.code, this.#workshop.code);
    if (!codeOk) {
      this.#perAddress.charge(address, WRONG_CODE_COST);
      sendJson(res, 403, { error: 'That is not this workshop’s code: check the code on the instructor’s screen.', field: 'code' });
      return;
    }
    const name = workshopDisplayNameSchema.safeParse(request.data.name);
    if (!name.success) {
      sendJson(res, 400, { error: `Name: ${name.error.issues[0]?.message ?? 'invalid'}.`, field: 'name' });
      return;
    }
    if (this.#workshop.endsAt !== null && Date.now() > this.#workshop.endsAt) {
      sendJson(res, 403, { error: `This workshop ended at ${new Date(this.#workshop.endsAt).toISOString().slice(11, 16)} UTC.` });
      return;
    }
    const now = Date.now();
    const existing = this.#learners.get(cookieLearner);
    if (existing) {
      // The same browser again: same learner, same lab; the name may be corrected.
      if (existing.name !== name.data) {
        existing.name = name.data;
        this.#store.rename(existing.learner, name.data);
        this.#markDirty(existing.learner);
      }
      sendJson(res, 200, { name: existing.name, workshop: this.#workshop.name });
      return;
    }
    const taken = [...this.#learners.values()].some((r) => r.name.toLocaleLowerCase() === name.data.toLocaleLowerCase());
    if (taken) {
      sendJson(res, 409, { error: `Someone in the room already goes by "${name.data}"; add an initial or a number.`, field: 'name' });
      return;
    }
    if (this.#learners.size >= MAX_LEARNERS) {
      sendJson(res, 403, { error: `This workshop is full (${MAX_LEARNERS} learners).` });
      return;
    }
    const record: WorkshopLearnerRecord = {
      learner: randomBytes(16).toString('hex'),
      seat: this.#newSeat(),
      name: name.data,
      joinedAt: now,
      lastSeenAt: now,
    };
    this.#store.addLearner(this.#workshop.id, record);
    this.#progress.touchLearner(record.learner, now);
    this.#learners.set(record.learner, record);
    this.#bySeat.set(record.seat, record.learner);
    this.#log(`workshop: ${record.name} joined (seat ${record.seat})`);
    this.#markDirty(record.learner);
    sendJson(res, 200, { name: record.name, workshop: this.#workshop.name }, {
      'Set-Cookie': `${LEARNER_COOKIE}=${record.learner}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${LEARNER_COOKIE_MAX_AGE_S}`,
    });
  }

  #newSeat(): string {
    for (;;) {
      const seat = randomBytes(4).toString('hex');
      if (!this.#bySeat.has(seat)) return seat;
    }
  }

  #export(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const auth = req.headers.authorization ?? '';
    const given = auth.startsWith('Bearer ') ? auth.slice('Bearer '.length).trim() : null;
    if (!matchesSecretHash(given, this.#workshop.secretHash)) {
      sendJson(res, 401, { error: 'The export needs the instructor secret: Authorization: Bearer <secret>.' }, { 'WWW-Authenticate': 'Bearer' });
      return;
    }
    const format = url.searchParams.get('format') ?? 'json';
    const results = resultsJson(this.#workshop, this.#course, [...this.#learners.values()].map((record) => ({ record, steps: this.#steps(record.learner) })));
    const stamp = new Date().toISOString().slice(0, 16).replace(/[:T]/g, '-');
    if (format === 'json') {
      sendJson(res, 200, results, { 'Content-Disposition': `attachment; filename="workshop-${stamp}.json"` });
      return;
    }
    if (format === 'csv') {
      const text = resultsCsv(results);
      res.writeHead(200, {
        'Content-Type': 'text/csv; charset=utf-8',
        'Content-Length': String(Buffer.byteLength(text)),
        'Content-Disposition': `attachment; filename="workshop-${stamp}.csv"`,
        'Cache-Control': 'no-store',
      });
      res.end(text);
      return;
    }
    sendJson(res, 400, { error: `Unknown export format ${JSON.stringify(format)}; formats: json, csv` });
  }

  // -- sockets ---------------------------------------------------------------------------------

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): boolean {
    const runner = this.#runner;
    if (!runner) return false;
    const origin = req.headers.origin;
    if (url.pathname === WORKSHOP_INSTRUCTOR_WEBSOCKET_PATH) {
      if (!runner.originAllowed(origin) || !matchesSecretHash(url.searchParams.get('key'), this.#workshop.secretHash)) {
        this.#log(`workshop: instructor socket refused (origin ${origin ?? 'absent'})`);
        refuseUpgrade(socket, 403);
        return true;
      }
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#instructorConnected(ws));
      return true;
    }
    if (url.pathname === WORKSHOP_LEARNER_WEBSOCKET_PATH) {
      const learner = cookieLearner(req);
      if (!runner.originAllowed(origin) || !runner.tokenMatches(url.searchParams.get('token')) || !learner || !this.#learners.has(learner)) {
        refuseUpgrade(socket, 403);
        return true;
      }
      this.#wss.handleUpgrade(req, socket, head, (ws) => this.#learnerConnected(ws, learner));
      return true;
    }
    return false;
  }

  #learnerConnected(ws: WebSocket, learner: string): void {
    let set = this.#learnerSockets.get(learner);
    if (!set) this.#learnerSockets.set(learner, (set = new Set()));
    set.add(ws);
    // Learners only listen on this socket; anything they send is ignored.
    ws.on('message', () => undefined);
    ws.on('error', (error) => this.#log(`workshop: learner socket error: ${error.message}`));
    ws.on('close', () => {
      set.delete(ws);
      if (set.size === 0) this.#learnerSockets.delete(learner);
    });
    sendTo(ws, this.#stateFor(learner));
    const notices = this.#store.notices(this.#workshop.id, learner, RECENT_NOTICES).reverse();
    for (const notice of notices) sendTo(ws, { type: 'notice', notice: { id: notice.id, kind: notice.kind, text: notice.text, at: notice.at } });
  }

  #stateFor(learner: string): WorkshopLearnerMessage {
    return {
      type: 'workshop',
      name: this.#workshop.name,
      endsAt: this.#workshop.endsAt,
      learner: this.#learners.get(learner)?.name ?? '',
      locked: this.#lessonOrder.filter((id) => this.#locked.has(id)),
    };
  }

  #toLearner(learner: string, message: WorkshopLearnerMessage): void {
    for (const ws of this.#learnerSockets.get(learner) ?? []) sendTo(ws, message);
  }

  #instructorConnected(ws: WebSocket): void {
    const instructor = new InstructorSocket(ws);
    this.#instructors.add(instructor);
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        // Watching is read-only: there is no way to type into a learner's terminal from here.
        instructor.send({ type: 'error', message: 'the dashboard sends no keystrokes: watching a terminal is read-only' });
        return;
      }
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      const parsed = parseInstructorMessage(buffer.toString('utf8'));
      if (!parsed.ok) {
        instructor.send({ type: 'error', message: parsed.message });
        return;
      }
      this.#onInstructorMessage(instructor, parsed.value).catch((error: unknown) => {
        this.#log(`workshop: instructor action ${parsed.value.type} failed: ${(error as Error).stack ?? String(error)}`);
        instructor.send({ type: 'error', message: `${parsed.value.type} failed: ${(error as Error).message}` });
      });
    });
    ws.on('error', (error) => this.#log(`workshop: instructor socket error: ${error.message}`));
    ws.on('close', () => {
      this.#endWatch(instructor, null);
      this.#instructors.delete(instructor);
    });
    const now = Date.now();
    instructor.send({ type: 'room', room: this.room(), now });
    instructor.send({ type: 'learners', learners: this.rows(), now });
  }

  async #onInstructorMessage(instructor: InstructorSocket, message: InstructorMessage): Promise<void> {
    switch (message.type) {
      case 'watch':
        return this.#watch(instructor, message.seat, message.terminal);
      case 'unwatch':
        this.#endWatch(instructor, 'stopped');
        return;
      case 'hint': {
        const learner = this.#seatLearner(instructor, message.seat);
        if (!learner) return;
        this.#notice(learner, 'hint', message.text);
        instructor.send({ type: 'done', action: 'hint', message: `Hint sent to ${this.#learners.get(learner)!.name}` });
        return;
      }
      case 'broadcast':
        this.#notice(null, 'broadcast', message.text);
        instructor.send({ type: 'done', action: 'broadcast', message: `Message sent to ${this.#learners.size} learners` });
        return;
      case 'reset-lab': {
        const learner = this.#seatLearner(instructor, message.seat);
        if (!learner) return;
        await this.resetLab(learner);
        instructor.send({ type: 'done', action: 'reset-lab', message: `${this.#learners.get(learner)!.name}'s lab was reset` });
        return;
      }
      case 'catch-up': {
        const learner = this.#seatLearner(instructor, message.seat);
        if (!learner) return;
        this.#catchUp(instructor, learner, message.step);
        return;
      }
      case 'set-lock': {
        if (!this.#course.lessons.has(message.lesson)) {
          instructor.send({ type: 'error', message: `Unknown lesson "${message.lesson}"; lessons: ${this.#lessonOrder.join(', ')}` });
          return;
        }
        this.setLocked(message.lesson, message.locked);
        instructor.send({ type: 'done', action: 'set-lock', message: `${this.#course.lessons.get(message.lesson)!.title}: ${message.locked ? 'locked' : 'open'}` });
        return;
      }
    }
  }

  #seatLearner(instructor: InstructorSocket, seat: string): string | null {
    const learner = this.#bySeat.get(seat);
    if (!learner) instructor.send({ type: 'error', message: `No learner at seat "${seat}"` });
    return learner ?? null;
  }

  #notice(learner: string | null, kind: 'hint' | 'broadcast', text: string): void {
    const notice: NoticeRecord = { id: randomUUID(), learner, kind, text, at: Date.now() };
    this.#store.addNotice(this.#workshop.id, notice);
    const message: WorkshopLearnerMessage = { type: 'notice', notice: { id: notice.id, kind, text, at: notice.at } };
    if (learner) this.#toLearner(learner, message);
    else for (const id of this.#learnerSockets.keys()) this.#toLearner(id, message);
  }

  /** Ends the learner's shells and lab; their pages reconnect to a fresh one. Progress is kept. */
  async resetLab(learner: string): Promise<void> {
    const seat = this.#learners.get(learner)?.seat;
    for (const instructor of this.#instructors) if (instructor.watch?.learner === learner) this.#endWatch(instructor, 'the lab was reset');
    this.#resetting.add(learner);
    try {
      this.#toLearner(learner, { type: 'lab-reset' });
      await this.#runner!.resetLearner(learner);
      await this.#releaseLab?.(learner);
      this.#log(`workshop: lab of seat ${seat} reset`);
    } finally {
      this.#resetting.delete(learner);
      this.#markDirty(learner);
    }
  }

  #catchUp(instructor: InstructorSocket, learner: string, stepId: string): void {
    const name = this.#learners.get(learner)!.name;
    const found = this.#course.steps.get(stepId);
    if (!found) {
      instructor.send({ type: 'error', message: `Unknown step "${stepId}"` });
      return;
    }
    const live = this.#runner!.learners.get(learner);
    if (!live || live.disposed) {
      instructor.send({ type: 'error', message: `${name} has no lab running right now (no page open); catch-up needs it` });
      return;
    }
    const started = live.catchUp(found.lesson.id, stepId);
    if (!started.ok) {
      instructor.send({ type: 'error', message: `Catch-up for ${name}: ${started.message}` });
      return;
    }
    this.#catchingUp.add(learner);
    instructor.send({ type: 'done', action: 'catch-up', message: `Catch-up of ${name} to "${found.step.title}" started` });
    started.done
      .finally(() => {
        this.#catchingUp.delete(learner);
        this.#markDirty(learner);
      })
      .then(
        () => {
          const missing = this.#stepsBefore(stepId).filter((id) => this.row(learner).steps[id] !== 'passed');
          if (missing.length === 0) instructor.send({ type: 'done', action: 'catch-up', message: `${name} is caught up to "${found.step.title}"` });
          else instructor.send({ type: 'error', message: `Catch-up of ${name} stopped at ${missing[0]} (see their row for why)` });
        },
        (error: unknown) => instructor.send({ type: 'error', message: `Catch-up of ${name} failed: ${(error as Error).message}` }),
      );
  }

  /** Every step before this one, in course order. */
  #stepsBefore(stepId: string): string[] {
    const before: string[] = [];
    for (const id of this.#lessonOrder) {
      for (const step of this.#course.lessons.get(id)!.steps) {
        if (step.id === stepId) return before;
        before.push(step.id);
      }
    }
    return before;
  }

  setLocked(lesson: string, locked: boolean): void {
    if (locked) this.#locked.add(lesson);
    else if (this.#locked.delete(lesson)) this.#openedAt.set(lesson, Date.now());
    this.#workshop.locked = this.#lessonOrder.filter((id) => this.#locked.has(id));
    this.#store.setLocked(this.#workshop.id, this.#workshop.locked);
    for (const id of this.#learnerSockets.keys()) this.#toLearner(id, this.#stateFor(id));
    const now = Date.now();
    for (const instructor of this.#instructors) {
      instructor.send({ type: 'room', room: this.room(), now });
      instructor.send({ type: 'learners', learners: this.rows(), now });
    }
  }

  #watch(instructor: InstructorSocket, seat: string, terminal: string): void {
    const learner = this.#seatLearner(instructor, seat);
    if (!learner) return;
    const session = this.#runner!.learners.get(learner)?.terminal(terminal);
    if (!session || session.exited) {
      instructor.send({ type: 'error', message: `${this.#learners.get(learner)!.name} has no "${terminal}" terminal running right now` });
      return;
    }
    this.#endWatch(instructor, null);
    const attachment = session.attach(
      0,
      (frame) => {
        if (instructor.ws.bufferedAmount > WATCH_MAX_BUFFERED_BYTES) {
          this.#endWatch(instructor, 'too much output for the dashboard to keep up; watch again to see the screen as it is now');
          return;
        }
        instructor.ws.send(frame, { binary: true });
        // Acknowledged as sent: the instructor's dashboard never holds the learner's shell back.
        session.ack(attachment, frame.byteLength - 1);
      },
      (screen) => {
        if (instructor.watch?.attachment !== attachment) return;
        instructor.send({ type: 'watching', seat, terminal });
        const data = new TextEncoder().encode(screen);
        instructor.ws.send(encodeChannelFrame(0, data), { binary: true });
      },
    );
    instructor.watch = { learner, seat, terminal, session, attachment };
  }

  #endWatch(instructor: InstructorSocket, reason: string | null): void {
    const watch = instructor.watch;
    if (!watch) return;
    instructor.watch = null;
    watch.session.detach(watch.attachment);
    if (reason !== null) instructor.send({ type: 'watch-ended', seat: watch.seat, terminal: watch.terminal, reason });
  }

  // -- the grid --------------------------------------------------------------------------------

  room(): WorkshopRoom {
    return {
      name: this.#workshop.name,
      code: this.#workshop.code,
      joinUrl: this.#joinUrl,
      startedAt: this.#workshop.startedAt,
      endsAt: this.#workshop.endsAt,
      lessons: this.#lessonOrder.map((id) => {
        const lesson = this.#course.lessons.get(id)!;
        return { id, title: lesson.title, locked: this.#locked.has(id), steps: lesson.steps.map((s) => ({ id: s.id, title: s.title })) };
      }),
      features: ['catch-up'],
    };
  }

  #steps(learner: string): StepStatus[] {
    const live = this.#runner?.learners.get(learner);
    return live && !live.disposed ? live.allSteps() : this.#progress.steps(learner);
  }

  row(learner: string): WorkshopLearnerRow {
    const record = this.#learners.get(learner)!;
    const live = this.#runner?.learners.get(learner);
    const statuses = this.#steps(learner).filter((s) => this.#course.steps.has(s.step));
    const steps: Record<string, StepStatus['state']> = {};
    for (const s of statuses) if (s.state !== 'idle') steps[s.step] = s.state;
    let current: string | null = null;
    let currentLesson: string | null = null;
    for (const id of this.#lessonOrder) {
      if (this.#locked.has(id)) continue;
      const step = this.#course.lessons.get(id)!.steps.find((s) => steps[s.id] !== 'passed');
      if (step) {
        current = step.id;
        currentLesson = id;
        break;
      }
    }
    let currentSince = Math.max(record.joinedAt, (currentLesson && this.#openedAt.get(currentLesson)) || 0);
    for (const s of statuses) if (s.state === 'passed' && s.updatedAt !== undefined) currentSince = Math.max(currentSince, s.updatedAt);
    let lastFailure: WorkshopLearnerRow['lastFailure'] = null;
    for (const s of statuses) {
      if (s.state !== 'failed') continue;
      const at = s.updatedAt ?? 0;
      if (lastFailure && lastFailure.at >= at) continue;
      const failing = s.results.find((r) => !r.passed) ?? s.results[0];
      // A step's message names the failed block ("block 01-x/y/1: ..."); the dashboard names the step already.
      lastFailure = { step: s.step, message: (failing?.message ?? 'failed').replace(/^block \S+: /, ''), at };
      if (failing?.diff) lastFailure.diff = failing.diff.slice(0, MAX_DIFF_CHARS);
    }
    const online = !!live && !live.disposed && live.pageCount > 0;
    const terminals: string[] = [];
    if (live && !live.disposed) {
      const names = new Set([...this.#course.lessons.values()].flatMap((l) => l.terminals.map((t) => t.name)));
      for (const name of names) {
        const session = live.terminal(name);
        if (session && !session.exited) terminals.push(name);
      }
    }
    return {
      seat: record.seat,
      name: record.name,
      joinedAt: record.joinedAt,
      lastSeenAt: online ? Date.now() : record.lastSeenAt,
      online,
      steps,
      current,
      currentSince,
      lastFailure,
      terminals,
    };
  }

  rows(): WorkshopLearnerRow[] {
    return [...this.#learners.keys()].map((id) => this.row(id));
  }

  #markDirty(learner: string): void {
    this.#dirty.add(learner);
    this.#flushTimer ??= setTimeout(() => this.#flush(), DASHBOARD_FLUSH_MS);
  }

  #flush(): void {
    this.#flushTimer = null;
    const ids = [...this.#dirty];
    this.#dirty.clear();
    const now = Date.now();
    for (const id of ids) {
      if (!this.#learners.has(id)) continue;
      const row = this.row(id);
      if (row.online) this.#noteSeen(id, now);
      for (const instructor of this.#instructors) {
        instructor.send({ type: 'learner', learner: row, now });
        const watch = instructor.watch;
        if (watch?.learner === id) {
          const session = this.#runner!.learners.get(id)?.terminal(watch.terminal);
          if (session !== watch.session || watch.session.exited) this.#endWatch(instructor, 'the terminal closed');
        }
      }
    }
  }

  #noteSeen(learner: string, now: number): void {
    const record = this.#learners.get(learner)!;
    record.lastSeenAt = now;
    if (now - (this.#lastSeenWrite.get(learner) ?? 0) < SEEN_WRITE_MS) return;
    this.#lastSeenWrite.set(learner, now);
    this.#store.seen(learner, now);
  }
}

function sendTo(ws: WebSocket, message: WorkshopLearnerMessage): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
}

function cookieLearner(req: IncomingMessage): string | null {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === LEARNER_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return /^[0-9a-f]{32}$/.test(value) ? value : null;
    }
  }
  return null;
}
