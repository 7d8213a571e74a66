// Resource limits of a sandbox, so that one learner's fork bomb, memory hog or busy loop does not
// hurt the others on the machine:
//
// - RLIMIT_NPROC (`prlimit --nproc`) on every process that enters a sandbox and on its keeper. The
//   kernel counts it per user per user namespace, and each sandbox is its own user namespace, so
//   the limit is the sandbox's process count, whatever runs on the host. Always available.
// - A cgroup per sandbox (pids.max, memory limit, CPU quota) where the machine lets this user make
//   one: cgroup v2 with the controllers enabled for our cgroup's children, or the v1 hierarchies
//   writable (as root). Best effort: where it cannot be made, `lab up` says so once on stderr and
//   the sandbox runs with RLIMIT_NPROC alone.
//
// The keeper and every `lab` process that enters the sandbox from the host join its cgroup before
// entering, so shells, `lab exec` checks, daemons and services are all counted.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Processes (and threads) per sandbox: a full lab runs about 60; shells and checks add a few each. */
export const DEFAULT_PIDS_MAX = 512;
/** Memory per sandbox: a lab takes about 160 MB (bench/README.md); four times that is a hog. */
export const DEFAULT_MEMORY_MAX_BYTES = 768 * 1024 * 1024;
/** CPU per sandbox, in CPUs: a busy loop in one lab leaves the rest of the machine to the others. */
export const DEFAULT_CPU_MAX = 1;
const CPU_PERIOD_US = 100_000;

const CGROUP_ROOT = '/sys/fs/cgroup';
/** An empty sandbox cgroup younger than this may be one being set up; the sweep leaves it. */
const SWEEP_MIN_AGE_MS = 60_000;

export type SandboxLimits = { pidsMax: number; memoryMaxBytes: number; cpuMax: number };

function positive(name: string, value: string | undefined, parse: (v: string) => number, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = parse(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${JSON.stringify(value)}`);
  return n;
}

/** `768M`, `1G`, `1048576`. */
export function parseBytes(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMG]?)i?B?$/i.exec(value.trim());
  if (!m) return Number.NaN;
  const unit = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  return Math.round(Number(m[1]) * unit);
}

/** The limits, from LAB_PIDS_MAX, LAB_MEMORY_MAX and LAB_CPU_MAX, else the defaults. */
export function sandboxLimits(env: NodeJS.ProcessEnv = process.env): SandboxLimits {
  return {
    pidsMax: Math.floor(positive('LAB_PIDS_MAX', env.LAB_PIDS_MAX, Number, DEFAULT_PIDS_MAX)),
    memoryMaxBytes: positive('LAB_MEMORY_MAX', env.LAB_MEMORY_MAX, parseBytes, DEFAULT_MEMORY_MAX_BYTES),
    cpuMax: positive('LAB_CPU_MAX', env.LAB_CPU_MAX, Number, DEFAULT_CPU_MAX),
  };
}

/** The argv prefix that runs a command with the sandbox's process limit (soft and hard). */
export function nprocPrefix(limits: SandboxLimits = sandboxLimits()): string[] {
  return ['prlimit', `--nproc=${limits.pidsMax}:${limits.pidsMax}`, '--'];
}

/** This process's cgroup path per v1 controller (and "" for v2), from /proc/self/cgroup. */
function ownCgroups(): Map<string, string> {
  const map = new Map<string, string>();
  let text = '';
  try {
    text = readFileSync('/proc/self/cgroup', 'utf8');
  } catch {
    return map; // not Linux, or /proc hidden: no cgroups to use
  }
  for (const line of text.trim().split('\n')) {
    const [, controllers, where] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (controllers === undefined || where === undefined) continue;
    for (const controller of controllers.split(',')) map.set(controller, where);
  }
  return map;
}

/** The cgroup directories of a sandbox (each v1 controller's, or the one v2 directory). */
export function sandboxCgroupDirs(name: string): { dir: string; controller: 'pids' | 'memory' | 'cpu' | 'unified' }[] {
  const own = ownCgroups();
  const leaf = `lab-${name}`;
  if (existsSync(join(CGROUP_ROOT, 'cgroup.controllers'))) {
    return [{ dir: join(CGROUP_ROOT, own.get('') ?? '/', leaf), controller: 'unified' }];
  }
  const dirs: { dir: string; controller: 'pids' | 'memory' | 'cpu' }[] = [];
  for (const controller of ['pids', 'memory', 'cpu'] as const) {
    const base = join(CGROUP_ROOT, controller);
    if (existsSync(join(base, 'cgroup.procs'))) dirs.push({ dir: join(base, own.get(controller) ?? '/', leaf), controller });
  }
  return dirs;
}

/**
 * Makes the sandbox's cgroups and sets their limits. Returns what could not be done (empty when
 * every limit is in place), for one line on stderr; never throws for a machine that cannot.
 */
export function createSandboxCgroups(name: string, limits: SandboxLimits = sandboxLimits()): string[] {
  const problems: string[] = [];
  const dirs = sandboxCgroupDirs(name);
  if (dirs.length === 0) return ['no cgroup hierarchy is mounted at /sys/fs/cgroup'];
  for (const { dir, controller } of dirs) {
    try {
      mkdirSync(dir, { recursive: true });
      const quota = Math.round(limits.cpuMax * CPU_PERIOD_US);
      const files: Record<string, string> =
        controller === 'unified'
          ? { 'pids.max': String(limits.pidsMax), 'memory.max': String(limits.memoryMaxBytes), 'memory.swap.max': '0', 'cpu.max': `${quota} ${CPU_PERIOD_US}` }
          : controller === 'pids'
            ? { 'pids.max': String(limits.pidsMax) }
            : controller === 'memory'
              ? { 'memory.limit_in_bytes': String(limits.memoryMaxBytes) }
              : { 'cpu.cfs_period_us': String(CPU_PERIOD_US), 'cpu.cfs_quota_us': String(quota) };
      for (const [file, value] of Object.entries(files)) {
        try {
          writeFileSync(join(dir, file), value);
        } catch (error) {
          // memory.swap.max is absent without swap accounting; the rest is a real gap.
          if (file !== 'memory.swap.max') problems.push(`${join(dir, file)}: ${(error as Error).message}`);
        }
      }
    } catch (error) {
      problems.push(`${dir}: ${(error as Error).message}`);
    }
  }
  return problems;
}

/** Moves a process (and so everything it starts from now on) into the sandbox's cgroups, where they exist. */
export function joinSandboxCgroups(name: string, pid: number): void {
  for (const { dir } of sandboxCgroupDirs(name)) {
    if (!existsSync(dir)) continue;
    try {
      writeFileSync(join(dir, 'cgroup.procs'), String(pid));
    } catch {
      // Not ours to join (made by another user, or v2 without delegation): RLIMIT_NPROC still holds.
    }
  }
}

/**
 * Removes the sandbox's cgroups; idempotent. The kernel refuses (EBUSY) while a process is still in
 * one (a `lab exec` finishing as the sandbox ends): that one is left to `sweepEmptyCgroups`.
 */
export function removeSandboxCgroups(name: string): void {
  for (const { dir } of sandboxCgroupDirs(name)) removeIfEmpty(dir);
}

function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch (error) {
    // Gone already, never made, not ours, or not empty yet: none of them is an error here.
    const code = (error as NodeJS.ErrnoException).code;
    if (!['ENOENT', 'EACCES', 'EPERM', 'EROFS', 'EBUSY', 'ENOTEMPTY'].includes(code ?? '')) throw error;
  }
}

/**
 * Removes every sandbox cgroup (`lab-*`) beside ours that has no process left, whoever's sandbox
 * it was: a running sandbox always has its keeper in its cgroups, so an empty one is a leftover.
 */
export function sweepEmptyCgroups(): void {
  const parents = new Set(sandboxCgroupDirs('x').map(({ dir }) => dirname(dir)));
  const now = Date.now();
  for (const parent of parents) {
    let entries: string[];
    try {
      entries = readdirSync(parent);
    } catch {
      continue; // no such hierarchy here
    }
    for (const entry of entries) {
      if (!entry.startsWith('lab-')) continue;
      const dir = join(parent, entry);
      let procs = '';
      try {
        procs = readFileSync(join(dir, 'cgroup.procs'), 'utf8');
        // A cgroup another `lab up` has just made is empty until its keeper joins: leave young ones.
        if (procs.trim() === '' && now - statSync(dir).mtimeMs <= SWEEP_MIN_AGE_MS) continue;
      } catch {
        continue; // not a cgroup directory, or gone meanwhile
      }
      if (procs.trim() === '') removeIfEmpty(dir);
    }
  }
}
