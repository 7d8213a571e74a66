// `node runner/main.ts [--host 127.0.0.1] [--port 4321] [--site DIR] [--state DIR]
//                      [--target local|lab|ssh] [--allow-origin URL]... [--idle-minutes N] [--user-rc]`
//
// Builds the site first when it is the default `dist` and is missing or older than the lessons,
// loads and validates the course manifest, opens the progress store, serves the site and the
// WebSocket, and prints exactly one line `Course ready: URL#start=KEY` on stdout, the URL to open
// with the start key that admits a browser (everything else goes to
// stderr). SIGTERM or SIGINT end every page, shell and check, then exit 0.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArgvReader, parseIdleMinutes, parsePort, StartupError, UsageError } from './cli-args.ts';
import { defaultStateDir } from './state-dir.ts';
import { loadCourse, ManifestError } from './manifest.ts';
import { ProgressStore, ProgressStoreError } from './progress-store.ts';
import { DEFAULT_IDLE_MS, startRunner } from './server.ts';
import type { Target } from './target.ts';
import { announceLab, LabTarget } from './targets/lab.ts';
import { LocalShellTarget } from './targets/local-shell.ts';
import { SshTarget } from './targets/ssh.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEFAULT_SITE = 'dist';
const MANIFEST_FILE = 'course-manifest.json';
const TARGETS = ['local', 'lab', 'ssh'] as const;
type TargetName = (typeof TARGETS)[number];

const USAGE = `usage: node runner/main.ts [--host 127.0.0.1] [--port 4321] [--site DIR] [--state DIR]
                         [--target local|lab|ssh] [--allow-origin URL]... [--idle-minutes N] [--user-rc]
                         [--topology-command CMD]
                         [--lab-prefix NAME] [--lab-cli FILE] [--ssh-host [TERMINAL=]HOST]... [--ssh-config FILE]`;


type Options = {
  host: string;
  port: number;
  site: string;
  siteIsDefault: boolean;
  state: string;
  target: TargetName;
  allowOrigins: string[];
  idleMs: number;
  userRc: boolean;
  /** Local target: a command printing lab snapshots as JSON lines, for the topology view. */
  topologyCommand: string | undefined;
  /** --target lab: prefix of sandbox names (so a checker's sandboxes are told apart). */
  labPrefix?: string;
  /** --target lab: another program speaking the lab CLI (lab/bin/lab by default; tests give a scripted one). */
  labCli?: string;
  /** --target ssh: the default host, hosts per terminal, and an ssh config file. */
  sshHost?: string;
  sshTerminalHosts: Record<string, string>;
  sshConfig?: string;
};

function parseArgs(argv: string[]): Options {
  const options: Options = {
    host: '127.0.0.1',
    port: 4321,
    site: path.join(ROOT, DEFAULT_SITE),
    siteIsDefault: true,
    state: defaultStateDir(),
    target: 'local',
    allowOrigins: [],
    idleMs: DEFAULT_IDLE_MS,
    userRc: false,
    topologyCommand: undefined,
    sshTerminalHosts: {},
  };
  const args = new ArgvReader(argv);
  for (let flag = args.next(); flag !== undefined; flag = args.next()) {
    const value = (): string => args.value(flag!);
    switch (flag) {
      case '--host':
        options.host = value();
        break;
      case '--port':
        options.port = parsePort(value());
        break;
      case '--site':
        options.site = path.resolve(value());
        options.siteIsDefault = options.site === path.join(ROOT, DEFAULT_SITE);
        break;
      case '--state':
        options.state = path.resolve(value());
        break;
      case '--target': {
        const v = value();
        if (!(TARGETS as readonly string[]).includes(v)) throw new UsageError(`--target must be one of ${TARGETS.join(', ')}, got ${JSON.stringify(v)}`);
        options.target = v as TargetName;
        break;
      }
      case '--allow-origin': {
        const v = value();
        let origin: string;
        try {
          origin = new URL(v).origin;
        } catch {
          throw new UsageError(`--allow-origin needs an origin such as http://host:8080, got ${JSON.stringify(v)}`);
        }
        if (origin === 'null') throw new UsageError(`--allow-origin needs an http(s) origin, got ${JSON.stringify(v)}`);
        options.allowOrigins.push(origin);
        break;
      }
      case '--idle-minutes':
        options.idleMs = parseIdleMinutes(value());
        break;
      case '--user-rc':
        options.userRc = true;
        break;
      case '--lab-prefix':
        options.labPrefix = value();
        break;
      case '--lab-cli':
        options.labCli = path.resolve(value());
        break;
      case '--ssh-host': {
        // HOST for every terminal, or TERMINAL=HOST for one.
        const v = value();
        const eq = v.indexOf('=');
        if (eq < 0) options.sshHost = v;
        else options.sshTerminalHosts[v.slice(0, eq)] = v.slice(eq + 1);
        break;
      }
      case '--ssh-config':
        options.sshConfig = path.resolve(value());
        break;
      case '--topology-command':
        options.topologyCommand = value();
        break;
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
      default:
        throw new UsageError(`unknown option ${JSON.stringify(flag)}`);
    }
  }
  return options;
}

function newestMtime(dir: string): number {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

async function buildIfNeeded(site: string): Promise<void> {
  const manifest = path.join(site, MANIFEST_FILE);
  const lessons = path.join(ROOT, 'lessons');
  if (existsSync(manifest) && statSync(manifest).mtimeMs >= newestMtime(lessons)) return;
  process.stderr.write(`${existsSync(manifest) ? 'Lessons changed since the last build' : 'No site built yet'}: running astro build\n`);
  const astro = path.join(ROOT, 'node_modules', '.bin', 'astro');
  // The build's output goes to stderr: stdout carries only the "Course ready" line.
  const child = spawn(process.execPath, [astro, 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (exitCode, signal) => resolve(signal ? null : exitCode));
  });
  if (code !== 0) throw new Error(`astro build failed (exit ${code ?? 'by signal'}); see its output above`);
  if (!existsSync(manifest)) throw new Error(`astro build finished but wrote no ${manifest}`);
}

async function createTarget(options: Options): Promise<Target> {
  if (options.target === 'local') {
    return new LocalShellTarget({ stateDir: options.state, userRc: options.userRc, topologyCommand: options.topologyCommand });
  }
  if (options.topologyCommand !== undefined) throw new UsageError('--topology-command is for --target local; the lab target observes the lab itself');
  if (options.target === 'ssh') {
    if (!options.sshHost) throw new UsageError('--target ssh needs --ssh-host HOST (the host of every terminal without a TERMINAL=HOST of its own)');
    return new SshTarget({ host: options.sshHost, terminalHosts: options.sshTerminalHosts, ...(options.sshConfig ? { configFile: options.sshConfig } : {}) });
  }
  const lab = new LabTarget({
    ...(options.labPrefix === undefined ? {} : { prefix: options.labPrefix }),
    ...(options.labCli === undefined ? {} : { cli: options.labCli }),
  });
  await announceLab(lab);
  return lab;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if (options.siteIsDefault) await buildIfNeeded(options.site);
  const course = await loadCourse(path.join(options.site, MANIFEST_FILE));
  const store = ProgressStore.open(options.state);
  // RUNNER_START_KEY: for tools that start a runner and open its pages themselves (the browser
  // tests); taken out of the environment, so that no learner's shell inherits it.
  const startKey = process.env.RUNNER_START_KEY || randomBytes(24).toString('base64url');
  delete process.env.RUNNER_START_KEY;
  const target = await createTarget(options);
  const runner = await startRunner({
    host: options.host,
    port: options.port,
    siteDir: options.site,
    course,
    store,
    target,
    allowOrigins: options.allowOrigins,
    idleMs: options.idleMs,
    startKey,
  });
  process.stdout.write(`Course ready: ${runner.startUrl}\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`${signal}: already shutting down\n`);
      return;
    }
    stopping = true;
    process.stderr.write(`${signal}: ending every session\n`);
    runner
      .close()
      .then(() => {
        store.close();
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

main().catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`runner: ${error.message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (error instanceof ManifestError || error instanceof ProgressStoreError || error instanceof StartupError) {
    process.stderr.write(`runner: ${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`runner: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
