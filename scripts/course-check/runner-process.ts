// The course site a check runs against (built from a lessons folder when it is missing or older
// than the lessons), and a runner started for it as a child process, stopped with SIGTERM so that
// it ends every shell and takes every lab sandbox down before it exits.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MANIFEST_FILE = 'course-manifest.json';
/** A runner prints its URL within this long (a lab target starts nothing before the first shell). */
const RUNNER_START_TIMEOUT_MS = 60_000;
/** SIGTERM makes the runner take every sandbox down (bounded by `lab down`'s own timeout). */
const RUNNER_STOP_TIMEOUT_MS = 90_000;

function newestMtime(dir: string): number {
  let newest = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/** The default built-site folder for a course folder: `.cache/course-site` for `lessons/`. */
export function defaultSiteDir(courseDir: string): string {
  const name = path.resolve(ROOT, courseDir) === path.join(ROOT, 'lessons') ? 'course' : path.basename(courseDir);
  return path.join(ROOT, '.cache', `${name}-site`);
}

/** Builds `courseDir` into `siteDir` with astro unless its manifest is newer than every lesson. */
export async function ensureSite(courseDir: string, siteDir: string, log: (line: string) => void): Promise<void> {
  const manifest = path.join(siteDir, MANIFEST_FILE);
  const course = path.resolve(ROOT, courseDir);
  if (!existsSync(course)) throw new Error(`no course folder ${course}`);
  if (existsSync(manifest) && statSync(manifest).mtimeMs >= newestMtime(course)) return;
  log(`building ${path.relative(ROOT, course) || '.'} into ${path.relative(ROOT, siteDir)}`);
  const astro = path.join(ROOT, 'node_modules', '.bin', 'astro');
  const child = spawn(process.execPath, [astro, 'build', '--silent'], {
    cwd: ROOT,
    env: { ...process.env, COURSE_DIR: course, COURSE_OUT: siteDir, ASTRO_TELEMETRY_DISABLED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exitCode) => resolve(exitCode));
  });
  if (code !== 0) throw new Error(`building the course ${course} failed (exit ${code ?? 'by signal'}):\n${output.trim()}`);
  if (!existsSync(manifest)) throw new Error(`astro build finished but wrote no ${manifest}`);
}

export type RunnerOptions = {
  siteDir: string;
  target: string;
  /** Extra runner arguments (`--ssh-host`, `--lab-prefix`…). */
  args?: string[];
  log: (line: string) => void;
};

export type StartedRunner = { url: string; stop(): Promise<void> };

/** Starts `node runner/main.ts` on a free loopback port with a fresh state folder. */
export async function startRunner(options: RunnerOptions): Promise<StartedRunner> {
  const state = mkdtempSync(path.join(tmpdir(), 'course-check-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(ROOT, 'runner/main.ts'), '--site', options.siteDir, '--port', '0', '--state', state, '--target', options.target, ...(options.args ?? [])],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (stderr.length > 64 * 1024) stderr = stderr.slice(-32 * 1024);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const cleanup = () => rmSync(state, { recursive: true, force: true });
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`the runner did not start within ${RUNNER_START_TIMEOUT_MS / 1000} s:\n${stderr}`)), RUNNER_START_TIMEOUT_MS);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /^Course ready: (\S+)$/m.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the runner exited (${code}) before it was ready:\n${stderr.trim()}`));
    });
  }).catch(async (error: unknown) => {
    child.kill('SIGTERM');
    await exited;
    cleanup();
    throw error;
  });
  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          options.log(`the runner did not stop within ${RUNNER_STOP_TIMEOUT_MS / 1000} s of SIGTERM; killing it (lab sandboxes may be left: lab list)`);
          child.kill('SIGKILL');
        }, RUNNER_STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      cleanup();
    })());
  return { url, stop };
}
