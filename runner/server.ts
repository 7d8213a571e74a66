// The runner's one HTTP server: the static site, the session and progress endpoints, and the
// WebSocket. It owns the learners and reaps those who have had no page connected for the idle time.

import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { Learner, type LearnerContext } from './learner.ts';
import type { Course } from './manifest.ts';
import { PageConnection } from './page-connection.ts';
import type { ProgressStore } from './progress-store.ts';
import {
  LEARNER_COOKIE,
  MAX_CONTROL_FRAME_BYTES,
  MAX_INPUT_FRAME_BYTES,
  ADMIT_PATH,
  PROGRESS_PATH,
  SESSION_PATH,
  START_KEY_PARAM,
  WEBSOCKET_PATH,
  admitRequestSchema,
  type ProgressResponse,
  type SessionResponse,
} from './protocol.ts';
import { readJsonBody } from './request-body.ts';
import { sameSecret } from './secret.ts';
import { serveStatic } from './static-files.ts';
import type { Target } from './target.ts';

export const SHELL_INTEGRATION_RCFILE = fileURLToPath(new URL('./shell-integration.bash', import.meta.url));

/**
 * The transport's hard cap on a frame. Frames between the protocol's limits and this get an
 * `frame-too-large` error frame; only a frame beyond this closes the socket (1009), since ws must
 * not buffer an unbounded message to be able to answer it.
 */
export const WEBSOCKET_MAX_PAYLOAD_BYTES = 4 * Math.max(MAX_CONTROL_FRAME_BYTES, MAX_INPUT_FRAME_BYTES);
/** Default time a learner may have no page connected before their shells are ended. */
export const DEFAULT_IDLE_MS = 30 * 60 * 1000;
/** Learner ids the runner hands out: 128 random bits, hex. Any other cookie value is replaced. */
const LEARNER_ID = /^[0-9a-f]{32}$/;

export type RunnerOptions = {
  host: string;
  port: number;
  siteDir: string;
  course: Course;
  store: ProgressStore;
  target: Target;
  /** Origins allowed besides http://127.0.0.1:PORT and http://localhost:PORT. */
  allowOrigins?: string[];
  idleMs?: number;
  log?: (line: string) => void;
  /**
   * The start key a browser must show (ADMIT_PATH) before it gets a session: it is in the URL the
   * runner prints and nowhere else, so a local account that can reach the port gets nothing from
   * it. Required unless an extension admits learners itself (a workshop: by its join code).
   */
  startKey?: string;
  /** Workshop mode (runner/workshop/); absent, every admitted browser is a learner of its own. */
  extension?: RunnerExtension;
};

/**
 * What workshop mode plugs into the server: its own routes and sockets, which learners may have a
 * session (only those who joined), and hooks on learners. The server keeps Host checks for all.
 */
export interface RunnerExtension {
  /** Serves a request it owns and returns true; `learner` is the request's learner cookie. */
  http(req: IncomingMessage, res: ServerResponse, url: URL, learner: string): Promise<boolean>;
  /** Takes over an upgrade it owns (its Host already checked) and returns true. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): boolean;
  /** Why this learner may not have a session token or a lesson socket, or null when they may. */
  refuseLearner(learner: string): string | null;
  onChange?: LearnerContext['onChange'];
  refuseRun?: LearnerContext['refuseRun'];
  /** Called once, when the server listens. */
  started(runner: RunningRunner): void;
}

export type RunningRunner = {
  url: string;
  /** The URL to open: `url` with the start key in its fragment (undefined in workshop mode). */
  startUrl: string | undefined;
  port: number;
  token: string;
  /** Learners currently held (for tests and the bench). */
  learners: ReadonlyMap<string, Learner>;
  /** Whether a page of this Origin may open a socket here. */
  originAllowed(origin: string | undefined): boolean;
  /** Whether this is the per-start session token. */
  tokenMatches(token: string | null): boolean;
  /** Closes the learner's pages, ends their shells and releases their target resources. */
  resetLearner(id: string): Promise<void>;
  /** Ends every page, shell and check, closes the server; idempotent. */
  close(): Promise<void>;
};

function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    cookies.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return cookies;
}

function learnerFrom(req: IncomingMessage): string | null {
  const value = parseCookies(req.headers.cookie).get(LEARNER_COOKIE);
  return value && LEARNER_ID.test(value) ? value : null;
}

/** An admission body: `{"key":"…"}` is a few dozen bytes. */
const MAX_ADMIT_BODY_BYTES = 1024;
const NOT_ADMITTED = 'This browser has not been admitted: open the course with the URL that npm start printed (the one ending in #start=…).';

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

function refuseUpgrade(socket: Duplex, status: 403 | 404): void {
  const reason = status === 403 ? 'Forbidden' : 'Not Found';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export async function startRunner(options: RunnerOptions): Promise<RunningRunner> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
  const token = randomBytes(24).toString('base64url');
  const siteDir = path.resolve(options.siteDir);
  const learners = new Map<string, Learner>();
  const reapTimers = new Map<string, NodeJS.Timeout>();
  const connections = new Set<PageConnection>();
  /** Whose page each connection is, so that a reset closes exactly that learner's pages. */
  const owners = new WeakMap<PageConnection, string>();
  const extraOrigins = options.allowOrigins ?? [];
  const allowedOrigins = new Set<string>();
  let closing: Promise<void> | null = null;

  const learnerFor = (id: string): Learner => {
    let learner = learners.get(id);
    if (!learner) {
      learner = new Learner(id, {
        course: options.course,
        store: options.store,
        target: options.target,
        integrationRcfile: SHELL_INTEGRATION_RCFILE,
        log,
        onChange: options.extension?.onChange,
        refuseRun: options.extension?.refuseRun,
      });
      learners.set(id, learner);
    }
    const timer = reapTimers.get(id);
    if (timer) clearTimeout(timer);
    reapTimers.delete(id);
    return learner;
  };

  const scheduleReap = (learner: Learner) => {
    if (learner.pageCount > 0 || closing) return;
    const timer = setTimeout(() => {
      reapTimers.delete(learner.id);
      // A learner whose lab was reset has a new Learner under the same id by now: not this one's to reap.
      if (learner.pageCount > 0 || learners.get(learner.id) !== learner) return;
      learners.delete(learner.id);
      log(`learner ${learner.id}: idle for ${idleMs} ms, ending their sessions`);
      learner.dispose().catch((error: unknown) => log(`learner ${learner.id}: dispose failed: ${(error as Error).stack ?? String(error)}`));
    }, idleMs);
    reapTimers.set(learner.id, timer);
  };

  const originAllowed = (origin: string | undefined): boolean => origin !== undefined && allowedOrigins.has(origin);
  /**
   * Only the hosts the runner is reached by (those of the allowed origins) are served: a page of
   * another site whose name was rebound to 127.0.0.1 (DNS rebinding) gets nothing, not even the token.
   */
  const hostAllowed = (host: string | undefined): boolean => {
    if (host === undefined) return false;
    for (const origin of allowedOrigins) if (new URL(origin).host === host.toLowerCase()) return true;
    return false;
  };

  if (!options.extension && !options.startKey) throw new Error('startRunner needs a startKey, or an extension that admits learners itself');
  /** Why this learner may have no session or socket (not admitted, not joined), or null. */
  const refuseLearner = (learner: string): string | null => {
    if (options.extension) return options.extension.refuseLearner(learner);
    return options.store.isAdmitted(learner) ? null : NOT_ADMITTED;
  };

  const admit = async (req: IncomingMessage, res: ServerResponse, learner: string): Promise<void> => {
    if (req.method !== 'POST') {
      sendJson(res, 405, { error: `${ADMIT_PATH} takes POST with {"key": "…"}` }, { Allow: 'POST' });
      return;
    }
    if (!options.startKey) {
      sendJson(res, 403, { error: 'This runner admits learners by the workshop join, not by a start key.' });
      return;
    }
    const request = admitRequestSchema.safeParse(await readJsonBody(req, MAX_ADMIT_BODY_BYTES));
    if (!request.success) {
      sendJson(res, 400, { error: `${ADMIT_PATH} needs a JSON body {"key": "…"} of at most ${MAX_ADMIT_BODY_BYTES} bytes` });
      return;
    }
    if (!sameSecret(request.data.key, options.startKey)) {
      log(`admission refused: wrong start key`);
      sendJson(res, 403, { error: 'That start key is not this runner’s: open the URL that npm start printed when it last started.' });
      return;
    }
    options.store.admit(learner);
    sendJson(res, 200, { learner });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://runner.invalid');
    if (!hostAllowed(req.headers.host)) {
      res.writeHead(421, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`Host ${JSON.stringify(req.headers.host ?? '')} is not served here; open ${[...allowedOrigins][0]}/ instead\n`);
      return;
    }
    let learner = learnerFrom(req);
    if (!learner) {
      learner = randomBytes(16).toString('hex');
      res.setHeader('Set-Cookie', `${LEARNER_COOKIE}=${learner}; Path=/; HttpOnly; SameSite=Strict`);
    }
    res.setHeader('X-Content-Type-Options', 'nosniff');
    if (url.pathname === SESSION_PATH || url.pathname === ADMIT_PATH) {
      const site = req.headers['sec-fetch-site'];
      const origin = req.headers.origin;
      if ((site !== undefined && site !== 'same-origin' && site !== 'none') || (origin !== undefined && !originAllowed(origin))) {
        sendJson(res, 403, { error: `cross-site request refused (Origin ${origin ?? 'absent'}, Sec-Fetch-Site ${site ?? 'absent'})` });
        return;
      }
    }
    if (url.pathname === ADMIT_PATH) {
      await admit(req, res, learner);
      return;
    }
    if (url.pathname === SESSION_PATH) {
      const refusal = refuseLearner(learner);
      if (refusal) {
        sendJson(res, 403, { error: refusal });
        return;
      }
      sendJson(res, 200, { token, learner } satisfies SessionResponse);
      return;
    }
    if (url.pathname === PROGRESS_PATH) {
      const live = learners.get(learner);
      sendJson(res, 200, { steps: live ? live.allSteps() : options.store.steps(learner) } satisfies ProgressResponse);
      return;
    }
    if (options.extension && (await options.extension.http(req, res, url, learner))) return;
    await serveStatic(siteDir, req, res, url.pathname);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log(`HTTP ${req.method} ${req.url}: ${(error as Error).stack ?? String(error)}`);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('Internal error\n');
    });
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: WEBSOCKET_MAX_PAYLOAD_BYTES });

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://runner.invalid');
    if (url.pathname !== WEBSOCKET_PATH && !closing && hostAllowed(req.headers.host) && options.extension?.upgrade(req, socket, head, url)) return;
    if (url.pathname !== WEBSOCKET_PATH) {
      refuseUpgrade(socket, 404);
      return;
    }
    const learner = learnerFrom(req);
    const origin = req.headers.origin;
    if (closing || !hostAllowed(req.headers.host) || !sameSecret(url.searchParams.get('token'), token) || !originAllowed(origin) || !learner || refuseLearner(learner)) {
      log(`WebSocket refused: origin ${origin ?? 'absent'}, ${learner ? 'with' : 'without'} learner cookie`);
      refuseUpgrade(socket, 403);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      const owner = learnerFor(learner);
      const connection = new PageConnection(ws, owner, options.course, log, async (clearProgress) => {
        if (clearProgress) options.store.resetProgress(learner);
        await resetLearner(learner);
      });
      connections.add(connection);
      owners.set(connection, learner);
      ws.on('close', () => {
        connections.delete(connection);
        scheduleReap(owner);
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  allowedOrigins.add(`http://${hostForUrl}:${port}`);
  allowedOrigins.add(`http://127.0.0.1:${port}`);
  allowedOrigins.add(`http://localhost:${port}`);
  for (const origin of extraOrigins) allowedOrigins.add(origin);

  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const timer of reapTimers.values()) clearTimeout(timer);
      reapTimers.clear();
      for (const connection of connections) connection.close();
      connections.clear();
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await Promise.all([...learners.values()].map((l) => l.dispose()));
      learners.clear();
      await options.target.dispose();
      await serverClosed;
    })();
    return closing;
  };

  const resetLearner = async (id: string): Promise<void> => {
    for (const connection of connections) {
      if (owners.get(connection) !== id) continue;
      connection.close();
      connections.delete(connection);
    }
    const timer = reapTimers.get(id);
    if (timer) clearTimeout(timer);
    reapTimers.delete(id);
    const learner = learners.get(id);
    learners.delete(id);
    if (learner) await learner.dispose();
    else await options.target.disposeLearner(id);
  };

  const baseUrl = `http://${hostForUrl}:${port}/`;
  const running: RunningRunner = {
    url: baseUrl,
    startUrl: options.startKey ? `${baseUrl}#${START_KEY_PARAM}=${encodeURIComponent(options.startKey)}` : undefined,
    port,
    token,
    learners,
    close,
    originAllowed,
    tokenMatches: (given) => sameSecret(given, token),
    resetLearner,
  };
  options.extension?.started(running);
  return running;
}
