// Workshop isolation: a learner reaches only their own session, never another learner's lab,
// terminal or progress, nor anything of the instructor's, even with guessed ids. Driven with the
// `ws` client and fetch, so that the tests control cookies and Origin as an attacker would.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import {
  PROGRESS_PATH,
  SESSION_PATH,
  WEBSOCKET_PATH,
  WORKSHOP_EXPORT_PATH,
  WORKSHOP_INSTRUCTOR_WEBSOCKET_PATH,
  WORKSHOP_JOIN_PATH,
  WORKSHOP_LEARNER_WEBSOCKET_PATH,
  progressResponseSchema,
  sessionResponseSchema,
} from '../../runner/protocol.ts';
import { join, ScriptedInstructor, ScriptedLearner } from '../support/workshop-client.ts';
import { startWorkshop, type WorkshopProcess } from '../support/workshop-runner.ts';
import { expect, test } from './fixtures.ts';
import { WAIT_MS } from '../support/deadlines.ts';

const PORT = Number(process.env.COURSE_WORKSHOP_ISOLATION_PORT ?? 47_232);

test.describe.configure({ mode: 'serial' });

let workshop: WorkshopProcess;
let state: string;
let ada: string;
let bob: string;

test.beforeAll(async () => {
  state = fs.mkdtempSync(path.join(os.tmpdir(), 'workshop-isolation-'));
  workshop = await startWorkshop(
    ['--name', 'Isolation room', '--site', '.cache/fixture-site', '--port', String(PORT), '--target', 'local', '--trusted-room', '--state', state, '--unlocked', 'all'],
    path.join(state, 'runner.log'),
  );
  ada = await join(workshop.base, workshop.code, 'Ada Iso');
  bob = await join(workshop.base, workshop.code, 'Bob Iso');
});

test.afterAll(async () => {
  await workshop?.stop();
  if (state) fs.rmSync(state, { recursive: true, force: true });
});

type Outcome = { opened: true } | { opened: false; status: number | undefined };

function upgrade(pathAndQuery: string, headers: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${PORT}${pathAndQuery}`, { headers });
    socket.once('open', () => {
      socket.close();
      resolve({ opened: true });
    });
    socket.once('unexpected-response', (_request, response) => {
      resolve({ opened: false, status: response.statusCode });
      response.resume();
      socket.terminate();
    });
    socket.once('error', reject);
  });
}

async function tokenOf(cookie: string): Promise<string> {
  const response = await fetch(new URL(SESSION_PATH, workshop.base), { headers: { Cookie: cookie } });
  expect(response.status).toBe(200);
  return sessionResponseSchema.parse(await response.json()).token;
}

const origin = () => workshop.base;

test('a guessed or made-up learner id gets no session, no lesson socket and no workshop socket', async () => {
  const guessed = `learner=${randomBytes(16).toString('hex')}`;
  const session = await fetch(new URL(SESSION_PATH, workshop.base), { headers: { Cookie: guessed } });
  expect(session.status).toBe(403);
  expect(await session.text()).toContain('join it first');
  const token = await tokenOf(ada);
  // Even with a valid token (Ada's), the cookie decides whose session it is, and a guessed one is no one's.
  expect(await upgrade(`${WEBSOCKET_PATH}?token=${token}`, { Origin: origin(), Cookie: guessed })).toEqual({ opened: false, status: 403 });
  expect(await upgrade(`${WORKSHOP_LEARNER_WEBSOCKET_PATH}?token=${token}`, { Origin: origin(), Cookie: guessed })).toEqual({ opened: false, status: 403 });
  expect(await upgrade(`${WEBSOCKET_PATH}?token=${token}`, { Origin: origin() })).toEqual({ opened: false, status: 403 });
  // Ada's own cookie is admitted (so the refusals above mean something).
  expect(await upgrade(`${WEBSOCKET_PATH}?token=${token}`, { Origin: origin(), Cookie: ada })).toEqual({ opened: true });
  expect(await upgrade(`${WORKSHOP_LEARNER_WEBSOCKET_PATH}?token=${token}`, { Origin: origin(), Cookie: ada })).toEqual({ opened: true });
});

test('a learner sees only their own progress and steps, never another learner’s', async () => {
  const adaPage = await ScriptedLearner.connect(workshop.base, ada, '01-first-steps');
  expect(await adaPage.runBlock('01-first-steps/hello/1', '01-first-steps/hello', WAIT_MS)).toBe('passed');
  adaPage.close();

  const bobPage = await ScriptedLearner.connect(workshop.base, bob, '01-first-steps');
  const welcome = bobPage.inbox.messages.find((m) => m.type === 'welcome');
  expect(welcome?.type === 'welcome' && welcome.steps).toEqual([]);
  bobPage.close();

  const progress = async (cookie: string) =>
    progressResponseSchema.parse(await (await fetch(new URL(PROGRESS_PATH, workshop.base), { headers: { Cookie: cookie } })).json()).steps.map((s) => s.step);
  expect(await progress(ada)).toEqual(['01-first-steps/hello']);
  expect(await progress(bob)).toEqual([]);
});

test('a learner cannot reach the instructor’s socket or export, with or without their own credentials', async () => {
  const token = await tokenOf(ada);
  for (const key of ['', token, workshop.code, 'x'.repeat(workshop.key.length), ada.replace('learner=', '')]) {
    expect(await upgrade(`${WORKSHOP_INSTRUCTOR_WEBSOCKET_PATH}?key=${encodeURIComponent(key)}`, { Origin: origin(), Cookie: ada })).toEqual({ opened: false, status: 403 });
  }
  for (const auth of [undefined, `Bearer ${token}`, `Bearer ${workshop.code}`, `Bearer ${workshop.key.slice(0, -1)}`]) {
    const headers: Record<string, string> = { Cookie: ada };
    if (auth) headers.Authorization = auth;
    const response = await fetch(new URL(`${WORKSHOP_EXPORT_PATH}?format=csv`, workshop.base), { headers });
    expect(response.status).toBe(401);
  }
  // The right key from a page of another site is refused too (no cross-site WebSocket hijacking).
  expect(await upgrade(`${WORKSHOP_INSTRUCTOR_WEBSOCKET_PATH}?key=${workshop.key}`, { Origin: 'http://evil.example' })).toEqual({ opened: false, status: 403 });
  expect(await upgrade(`${WORKSHOP_INSTRUCTOR_WEBSOCKET_PATH}?key=${workshop.key}`, { Origin: origin() })).toEqual({ opened: true });
});

test('instructor messages sent on a learner’s socket do nothing; the instructor’s watch never types', async () => {
  const bobPage = await ScriptedLearner.connect(workshop.base, bob, '01-first-steps');
  bobPage.send({ type: 'open', terminal: 'shell', size: { cols: 80, rows: 24 } });
  await bobPage.inbox.next((m) => m.type === 'opened', WAIT_MS, 'Bob’s shell');
  const instructor = await ScriptedInstructor.connect(workshop.base, workshop.key);
  const rows = await instructor.learners();
  const bobSeat = rows.find((l) => l.name === 'Bob Iso')!.seat;
  const adaSeat = rows.find((l) => l.name === 'Ada Iso')!.seat;

  // Ada, on her workshop socket, tries the instructor's messages against Bob.
  const token = await tokenOf(ada);
  const adaSocket = new WebSocket(`ws://127.0.0.1:${PORT}${WORKSHOP_LEARNER_WEBSOCKET_PATH}?token=${token}`, { headers: { Origin: origin(), Cookie: ada } });
  const adaFrames: Array<{ binary: boolean; text: string }> = [];
  adaSocket.on('message', (data, isBinary) => adaFrames.push({ binary: isBinary, text: isBinary ? '' : String(data) }));
  await new Promise((resolve) => adaSocket.once('open', resolve));
  for (const message of [{ type: 'watch', seat: bobSeat, terminal: 'shell' }, { type: 'reset-lab', seat: bobSeat }, { type: 'hint', seat: bobSeat, text: 'pwned' }]) {
    adaSocket.send(JSON.stringify(message));
  }
  // Then something Ada should get, on the same socket, after anything her frames could have caused.
  instructor.send({ type: 'hint', seat: adaSeat, text: 'marker for Ada' });
  await expect.poll(() => adaFrames.some((f) => f.text.includes('marker for Ada'))).toBe(true);
  expect(adaFrames.filter((f) => f.binary)).toEqual([]);
  expect(adaFrames.some((f) => f.text.includes('pwned'))).toBe(false);
  adaSocket.close();

  // The instructor watches Bob, and a keystroke frame on the instructor socket is refused.
  instructor.send({ type: 'watch', seat: bobSeat, terminal: 'shell' });
  await instructor.inbox.next((m) => m.type === 'watching', WAIT_MS, 'watching');
  const refused = instructor.inbox.next((m) => m.type === 'error', 5_000, 'the refusal of a keystroke frame');
  // A binary frame, as a page sends keystrokes: channel 0, then "echo typed-by-instructor\r".
  instructor.sendBinary(Buffer.concat([Buffer.from([0]), Buffer.from('echo typed-by-instructor\r')]));
  const error = await refused;
  expect(error.type === 'error' ? error.message : '').toContain('read-only');

  // Bob's shell is the same shell as before (not reset by Ada) and never saw the instructor's line.
  bobPage.send({ type: 'run', block: '01-first-steps/hello/1' });
  await bobPage.inbox.next((m) => m.type === 'step' && m.status.step === '01-first-steps/hello' && m.status.state === 'passed', WAIT_MS, 'Bob’s block');
  const commands = bobPage.inbox.messages.filter((m) => m.type === 'command').map((m) => (m.type === 'command' ? m.command : ''));
  expect(commands).toEqual(['echo "hello from the course"']);
  expect(bobPage.inbox.messages.some((m) => m.type === 'exited')).toBe(false);
  bobPage.close();
  instructor.close();
});

test('join validates names and limits attempts from one address', async () => {
  const attempt = (code: string, name: string) =>
    fetch(new URL(WORKSHOP_JOIN_PATH, workshop.base), { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: origin() }, body: JSON.stringify({ code, name }) });
  for (const [name, message] of [
    ['', 'enter a name'],
    ['x'.repeat(41), 'at most 40 characters'],
    ['<img src=x>', 'letters, digits, spaces'],
    ['Ada Iso', 'already goes by'],
  ] as const) {
    const response = await attempt(workshop.code, name);
    expect(response.status, name).toBeGreaterThanOrEqual(400);
    expect((await response.json()) as { error: string }).toMatchObject({ error: expect.stringContaining(message) });
  }
  // A cross-site form post is refused whatever it carries.
  const crossSite = await fetch(new URL(WORKSHOP_JOIN_PATH, workshop.base), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: 'http://evil.example' },
    body: JSON.stringify({ code: workshop.code, name: 'Eve' }),
  });
  expect(crossSite.status).toBe(403);
  // Wrong codes drain this address's allowance quickly; then every attempt waits, even a right one.
  const statuses: number[] = [];
  for (let i = 0; i < 10; i++) statuses.push((await attempt('ZZZZZZ', `Guesser ${i}`)).status);
  expect(statuses).toContain(403);
  expect(statuses.at(-1)).toBe(429);
  const limited = await attempt(workshop.code, 'Late Comer');
  expect(limited.status).toBe(429);
  expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
});
