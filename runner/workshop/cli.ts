// `npm run workshop -- --name "KubeCon lab" [--host 0.0.0.0] [--port 4321] [--ends 17:00]
//                      [--target lab|local] [--state DIR] [--site DIR] [--public-url URL]...
//                      [--unlocked N|all] [--idle-minutes N] [--join-burst N] [--new]`
//
// Starts the runner in workshop mode. A workshop that was not closed in the state directory's
// database is resumed (same code, same dashboard secret, same learners) unless --new is given, so
// restarting the runner, even after kill -9, is the same workshop. Prints on stdout:
//
//   Workshop "KubeCon lab" ready
//   Join URL: http://192.168.1.20:4321/join/
//   Code: K7QM2P
//   Dashboard: http://127.0.0.1:4321/workshop/#key=SECRET
//
// (and nothing else on stdout; logs go to stderr). SIGTERM/SIGINT end every shell and lab, then exit 0.

import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArgvReader, parseIdleMinutes, parsePort, StartupError, UsageError } from '../cli-args.ts';
import { defaultStateDir } from '../state-dir.ts';
import { secretHash } from '../secret.ts';
import { loadCourse, ManifestError } from '../manifest.ts';
import { ProgressStore, ProgressStoreError } from '../progress-store.ts';
import { WORKSHOP_CODE_ALPHABET, WORKSHOP_DASHBOARD_PAGE, WORKSHOP_JOIN_PAGE } from '../protocol.ts';
import { startRunner } from '../server.ts';
import type { Target } from '../target.ts';
import { announceLab, LabTarget } from '../targets/lab.ts';
import { LocalShellTarget } from '../targets/local-shell.ts';
import { JOIN_PER_ADDRESS, newWorkshopCode, Workshop } from './hub.ts';
import { downLeftoverLabs } from './leftover-labs.ts';
import { WorkshopStore, WorkshopStoreError, type WorkshopRecord } from './store.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DEFAULT_SITE = path.join(ROOT, 'dist');
const MANIFEST_FILE = 'course-manifest.json';
/** Longer than the runner's default: a learner at lunch should find their lab as they left it. */
const WORKSHOP_IDLE_MS = 90 * 60_000;
const DEFAULT_PORT = 4321;
/** Sandbox names of workshop labs: `ws-` and 16 hex digits of the learner's id. */
const LAB_PREFIX = 'ws';

const USAGE = `usage: npm run workshop -- --name NAME [--host 127.0.0.1] [--port ${DEFAULT_PORT}] [--ends HH:MM|ISO-TIME]
                        [--target lab|local] [--state DIR] [--site DIR] [--public-url URL]...
                        [--unlocked N|all] [--idle-minutes N] [--join-burst N] [--new] [--new-key] [--trusted-room]`;


type Options = {
  name: string | null;
  host: string;
  port: number;
  ends: number | null;
  target: 'lab' | 'local';
  state: string;
  site: string;
  publicUrls: string[];
  unlocked: number | 'all';
  idleMs: number;
  fresh: boolean;
  joinBurst: number | null;
  /** `--target local` gives each learner a plain shell of the runner's account: only for a room that may have it. */
  trustedRoom: boolean;
  /** Resuming: a new instructor key (the old one stops working), since only its hash was kept. */
  newKey: boolean;
};

/** `17:00` is today at 17:00 local time (tomorrow if that has passed); anything else is parsed as a date. */
export function parseEnds(value: string, now = new Date()): number {
  const hm = /^(\d{1,2}):(\d{2})$/.exec(value);
  if (hm) {
    const [h, m] = [Number(hm[1]), Number(hm[2])];
    if (h > 23 || m > 59) throw new UsageError(`--ends ${value}: not a time of day (00:00 to 23:59)`);
    const ends = new Date(now);
    ends.setHours(h, m, 0, 0);
    if (ends.getTime() <= now.getTime()) ends.setDate(ends.getDate() + 1);
    return ends.getTime();
  }
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UsageError(`--ends needs HH:MM or an ISO date and time, got ${JSON.stringify(value)}`);
  if (ms <= now.getTime()) throw new UsageError(`--ends ${value} is in the past`);
  return ms;
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    name: null,
    host: '127.0.0.1',
    port: DEFAULT_PORT,
    ends: null,
    target: 'lab',
    state: defaultStateDir(),
    site: DEFAULT_SITE,
    publicUrls: [],
    unlocked: 1,
    idleMs: WORKSHOP_IDLE_MS,
    fresh: false,
    joinBurst: null,
    trustedRoom: false,
    newKey: false,
  };
  const args = new ArgvReader(argv);
  for (let flag = args.next(); flag !== undefined; flag = args.next()) {
    const value = (): string => args.value(flag!);
    switch (flag) {
      case '--name':
        options.name = value().trim();
        if (!options.name || options.name.length > 80) throw new UsageError('--name must be 1 to 80 characters');
        break;
      case '--host':
        options.host = value();
        break;
      case '--port':
        options.port = parsePort(value());
        break;
      case '--ends':
        options.ends = parseEnds(value());
        break;
      case '--target': {
        const v = value();
        if (v !== 'lab' && v !== 'local') throw new UsageError(`--target must be lab or local, got ${JSON.stringify(v)}`);
        options.target = v;
        break;
      }
      case '--state':
        options.state = path.resolve(value());
        break;
      case '--trusted-room':
        options.trustedRoom = true;
        break;
      case '--new-key':
        options.newKey = true;
        break;
      case '--site':
        options.site = path.resolve(value());
        break;
      case '--public-url': {
        const v = value();
        let origin: string;
        try {
          origin = new URL(v).origin;
        } catch {
          throw new UsageError(`--public-url needs a URL such as http://workshop.example:4321, got ${JSON.stringify(v)}`);
        }
        if (origin === 'null') throw new UsageError(`--public-url needs an http(s) URL, got ${JSON.stringify(v)}`);
        options.publicUrls.push(origin);
        break;
      }
      case '--unlocked': {
        const v = value();
        if (v === 'all') options.unlocked = 'all';
        else if (/^\d+$/.test(v)) options.unlocked = Number(v);
        else throw new UsageError(`--unlocked takes a number of lessons or "all", got ${JSON.stringify(v)}`);
        break;
      }
      case '--idle-minutes':
        options.idleMs = parseIdleMinutes(value());
        break;
      case '--join-burst': {
        const v = value();
        if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 1000) throw new UsageError(`--join-burst must be 1 to 1000, got ${JSON.stringify(v)}`);
        options.joinBurst = Number(v);
        break;
      }
      case '--new':
        options.fresh = true;
        break;
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
      default:
        throw new UsageError(`unknown option ${JSON.stringify(flag)}`);
    }
  }
  if (options.target === 'local' && !options.trustedRoom) {
    // Strangers get no plain shell by default: that would be this account (or root) itself.
    throw new UsageError(
      '--target local gives every learner a shell of this account on this machine, with no sandbox; add --trusted-room only for a room you would give this account to (use --target lab, the default, otherwise)',
    );
  }
  return options;
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

/** The origins learners will type: the bound address, or every interface's for a wildcard bind. */
export function learnerOrigins(host: string, port: number, publicUrls: string[]): string[] {
  const origins: string[] = [...publicUrls];
  const add = (address: string) => origins.push(`http://${address.includes(':') ? `[${address}]` : address}:${port}`);
  if (WILDCARD_HOSTS.has(host)) {
    for (const addresses of Object.values(os.networkInterfaces())) {
      for (const a of addresses ?? []) if (!a.internal && a.family === 'IPv4') add(a.address);
    }
    for (const name of [os.hostname(), `${os.hostname()}.local`]) if (/^[A-Za-z0-9.-]+$/.test(name)) add(name.toLowerCase());
  } else if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    add(host);
  }
  return [...new Set(origins)];
}

function newestMtime(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** As runner/main.ts: the default site is built when missing or older than the lessons. */
async function buildIfNeeded(site: string): Promise<void> {
  const manifest = path.join(site, MANIFEST_FILE);
  if (existsSync(manifest) && statSync(manifest).mtimeMs >= newestMtime(path.join(ROOT, 'lessons'))) return;
  process.stderr.write('Building the course site first (astro build)\n');
  const child = spawn(process.execPath, [path.join(ROOT, 'node_modules', '.bin', 'astro'), 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (exitCode, signal) => resolve(signal ? null : exitCode));
  });
  if (code !== 0 || !existsSync(manifest)) throw new Error(`astro build failed (exit ${code ?? 'by signal'}); see its output above`);
}

function lockedLessons(lessonIds: string[], unlocked: number | 'all'): string[] {
  return unlocked === 'all' ? [] : lessonIds.slice(unlocked);
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (WILDCARD_HOSTS.has(options.host) && options.port === 0) {
    throw new UsageError('--port 0 with a wildcard --host: give the port learners will open, e.g. --port 4321');
  }
  if (options.site === DEFAULT_SITE) await buildIfNeeded(options.site);
  const course = await loadCourse(path.join(options.site, MANIFEST_FILE));
  const progress = ProgressStore.open(options.state);
  const store = WorkshopStore.open(options.state);
  const lessonIds = [...course.manifest.lessons].sort((a, b) => a.order - b.order).map((l) => l.id);

  // The instructor's key is printed once, when it is made; the database keeps only its hash.
  let key: string | null = null;
  const newKey = () => (key = randomBytes(24).toString('base64url'));
  let record = options.fresh ? null : store.openWorkshop();
  if (record) {
    process.stderr.write(`Resuming workshop "${record.name}" (started ${new Date(record.startedAt).toISOString()}); --new starts another\n`);
    if (options.ends !== null) record.endsAt = options.ends;
    if (options.newKey) {
      record.secretHash = secretHash(newKey());
      store.setSecretHash(record.id, record.secretHash);
    }
  } else {
    if (!options.name) throw new UsageError('--name is required to start a workshop');
    record = {
      id: randomUUID(),
      name: options.name,
      code: newWorkshopCode(WORKSHOP_CODE_ALPHABET),
      secretHash: secretHash(newKey()),
      startedAt: Date.now(),
      endsAt: options.ends,
      locked: lockedLessons(lessonIds, options.unlocked),
    } satisfies WorkshopRecord;
    store.startWorkshop(record);
  }

  const extraOrigins = learnerOrigins(options.host, options.port, options.publicUrls);
  const labTarget = options.target === 'lab' ? new LabTarget({ prefix: LAB_PREFIX }) : null;
  if (labTarget) await announceLab(labTarget);
  if (!labTarget) {
    const who = process.getuid?.() === 0 ? 'root' : 'this account';
    process.stderr.write(`workshop: --trusted-room: every learner gets a plain shell as ${who} on this machine, with no sandbox\n`);
  }
  const target: Target = labTarget ?? new LocalShellTarget({ stateDir: options.state, userRc: false });
  const loopbackJoin = `http://127.0.0.1:${options.port}${WORKSHOP_JOIN_PAGE}`;
  const workshop = new Workshop({
    store,
    progress,
    course,
    workshop: record,
    joinUrl: extraOrigins[0] ? `${extraOrigins[0]}${WORKSHOP_JOIN_PAGE}` : loopbackJoin,
    joinPerAddress: options.joinBurst === null ? undefined : { capacity: options.joinBurst, refillPerSecond: JOIN_PER_ADDRESS.refillPerSecond },
    releaseLab: labTarget
      ? async (learner) => {
          const failures = await downLeftoverLabs([labTarget.sandbox(learner)], (line) => process.stderr.write(`${line}\n`));
          if (failures.length) throw new Error(failures.join('; '));
        }
      : undefined,
  });
  const runner = await startRunner({
    host: options.host,
    port: options.port,
    siteDir: options.site,
    course,
    store: progress,
    target,
    allowOrigins: extraOrigins,
    idleMs: options.idleMs,
    extension: workshop,
  });
  const localBase = `http://127.0.0.1:${runner.port}`;
  const learnerBase = extraOrigins[0] ?? (WILDCARD_HOSTS.has(options.host) ? localBase : runner.url.replace(/\/$/, ''));
  process.stdout.write(
    `Workshop "${record.name}" ready${record.endsAt ? ` (ends ${new Date(record.endsAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })})` : ''}\n` +
      `Join URL: ${learnerBase}${WORKSHOP_JOIN_PAGE}\n` +
      `Code: ${record.code}\n` +
      `Dashboard: ${WILDCARD_HOSTS.has(options.host) || options.host === '127.0.0.1' ? localBase : runner.url.replace(/\/$/, '')}${WORKSHOP_DASHBOARD_PAGE}${key ? `#key=${key}` : ''}\n`,
  );
  if (!key) process.stderr.write('The dashboard opens with the key printed when this workshop started (only its hash is kept); --new-key prints a new one\n');
  if (extraOrigins.length > 1) process.stderr.write(`Learners may also open: ${extraOrigins.slice(1).join(', ')}\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${signal}: ending every session\n`);
    workshop.close();
    runner
      .close()
      .then(async () => {
        if (labTarget) {
          const names = workshop.learnerIds().map((id) => labTarget.sandbox(id));
          const failures = await downLeftoverLabs(names, (line) => process.stderr.write(`${line}\n`));
          for (const failure of failures) process.stderr.write(`${failure}\n`);
        }
        store.close();
        progress.close();
        process.exit(0);
      })
      .catch((error: unknown) => {
        process.stderr.write(`shutdown failed: ${(error as Error).stack ?? String(error)}\n`);
        process.exit(1);
      });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`workshop: ${error.message}\n${USAGE}\n`);
      process.exit(2);
    }
    if (error instanceof ManifestError || error instanceof ProgressStoreError || error instanceof WorkshopStoreError || error instanceof StartupError) {
      process.stderr.write(`workshop: ${error.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`workshop: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
