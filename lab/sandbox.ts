// A lab sandbox: user + network + mount + PID + UTS + IPC + cgroup namespaces made by bubblewrap,
// with a private root file system (lab/sandbox-view.ts) and a host identity of its own
// (lab/sandbox-identity.ts), held by a keeper (lab/shell/keeper.sh, PID 1 of the sandbox). Later
// `lab` invocations find the keeper through a pid file in the host-side state directory and enter
// the sandbox with `nsenter`, becoming its root, which is that identity on the host. Killing the
// keeper (even with SIGKILL) ends every process of the sandbox, and with them its namespaces:
// nothing of it is left on the host.

import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSandboxCgroups, joinSandboxCgroups, nprocPrefix, removeSandboxCgroups, sandboxCgroupDirs, sandboxLimits, sweepEmptyCgroups } from './limits.ts';
import { identitySource, releaseSlot, sandboxIdentity, type SandboxIdentity } from './sandbox-identity.ts';
import { sandboxView } from './sandbox-view.ts';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
const KEEPER_SCRIPT = join(REPO_ROOT, 'lab', 'shell', 'keeper.sh');

/** Inside a sandbox: the file holding its name (on the sandbox's private /run, absent on the host). */
export const SANDBOX_MARKER = '/run/lab/sandbox';

/**
 * The keeper prints "ready" after its mounts: well under a second when quiet, seconds at load 40;
 * a machine that takes longer is broken, not slow.
 */
const KEEPER_READY_TIMEOUT_MS = 60_000;
/** The file descriptor of the first checkout part handed to bwrap (after stdin, stdout, stderr). */
const FIRST_BIND_FD = 3;
/**
 * Every namespace but the user namespace, which the launcher makes (lab/sandbox-identity.ts).
 * --as-pid-1: the keeper is PID 1 itself, so that ending it ends the sandbox. --cap-add ALL: root
 * inside keeps its capabilities, which are those of its user namespace only.
 */
const BWRAP_NAMESPACES = ['--unshare-net', '--unshare-pid', '--unshare-uts', '--unshare-ipc', '--unshare-cgroup-try', '--as-pid-1', '--cap-add', 'ALL'];

/** Moves this shell into each cgroup of $LAB_CGROUP_DIRS that exists and it may join, then execs "$@". */
const JOIN_CGROUPS_THEN_EXEC =
  'for dir in $LAB_CGROUP_DIRS; do [ -d "$dir" ] && echo $$ > "$dir/cgroup.procs" 2>/dev/null || :; done; unset LAB_CGROUP_DIRS; exec "$@"';

/** The command that runs bwrap (with `rest` after its namespace options) as the sandbox's identity. */
function launchCommand(identity: SandboxIdentity, rest: string[]): string[] {
  // bwrap maps sandbox root to whoever runs it, as for any unprivileged user.
  const ownUserNamespace = ['bwrap', '--unshare-user', '--uid', '0', '--gid', '0', ...BWRAP_NAMESPACES, ...rest];
  switch (identity.kind) {
    case 'reserved':
      // A root runner becomes the reserved uid first: nothing of the sandbox ever runs as host root.
      return ['setpriv', `--reuid=${identity.uid}`, `--regid=${identity.gid}`, '--clear-groups', '--', ...ownUserNamespace];
    case 'subordinate':
      // newuidmap (through unshare) maps sandbox root to a subordinate uid; bwrap runs as that root.
      return ['unshare', `--map-users=${identity.uid},0,1`, `--map-groups=${identity.gid},0,1`, '--setuid', '0', '--setgid', '0', '--', 'bwrap', ...BWRAP_NAMESPACES, ...rest];
    case 'own':
      return ownUserNamespace;
  }
}

/** After SIGTERM the keeper exits at once; the kernel then kills the rest of the PID namespace. */
const KEEPER_EXIT_TIMEOUT_MS = 5_000;
const POLL_MS = 20;

export const SANDBOX_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,39}$/;
export const DEFAULT_SANDBOX = 'default';

export interface Keeper {
  name: string;
  stateDir: string;
  /** Host pid of the sandbox's PID 1 (the keeper): the `nsenter --target`. */
  pid: number;
  /** Host pid of the bwrap process that is the keeper's parent and waits for it (the name is from when it was unshare). */
  unsharePid: number;
  /** Host uid that is root inside the sandbox. */
  uid: number;
  /** /proc/PID/stat start time of the keeper, so a recycled pid is not mistaken for it. */
  startTime: string;
}

export class SandboxError extends Error {
  override name = 'SandboxError';
}

export function validateSandboxName(name: string): string {
  if (!SANDBOX_NAME_PATTERN.test(name)) {
    throw new SandboxError(
      `Invalid sandbox name "${name}": use 1-40 lower-case letters, digits, "-" or "_", starting with a letter or digit`,
    );
  }
  return name;
}

/**
 * Host-side directory holding one subdirectory per sandbox: `$LAB_STATE_DIR`, else
 * `$XDG_RUNTIME_DIR/dual-tor-lab`, else `/run/user/$UID/dual-tor-lab`.
 */
export function stateRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.LAB_STATE_DIR) return env.LAB_STATE_DIR;
  const runtime = env.XDG_RUNTIME_DIR || `/run/user/${process.getuid?.() ?? 0}`;
  return join(runtime, 'dual-tor-lab');
}

export function stateDir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(stateRoot(env), validateSandboxName(name));
}

/**
 * The environment a process entering a sandbox takes along: what a terminal and the lab need, and
 * nothing else of the host's (the runner's variables, tokens, its NODE_EXTRA_CA_CERTS).
 */
export function sandboxEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const kept: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && /^(PATH|TERM|COLORTERM|LANG|LANGUAGE|TZ|LC_[A-Z_]+|LAB_[A-Z_]+|RUNNER_SI_[A-Z_]+)$/.test(key)) kept[key] = value;
  }
  return kept;
}

/** The name of the sandbox this process runs in, or undefined on the host. */
export function currentSandbox(): string | undefined {
  try {
    return readFileSync(SANDBOX_MARKER, 'utf8').trim() || undefined;
  } catch {
    return undefined; // no marker: not inside a sandbox
  }
}

function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ".
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined; // the process is gone
  }
}

function alive(pid: number, startTime: string): boolean {
  return startTimeOf(pid) === startTime;
}

/** The running keeper of a sandbox; removes the state of one that died (killed, host rebooted). */
export function findKeeper(name: string): Keeper | undefined {
  const dir = stateDir(name);
  let keeper: Keeper;
  try {
    keeper = JSON.parse(readFileSync(join(dir, 'keeper.json'), 'utf8')) as Keeper;
  } catch {
    return undefined; // never started, or stopped: no state file
  }
  if (alive(keeper.pid, keeper.startTime)) return keeper;
  rmSync(dir, { recursive: true, force: true });
  removeSandboxCgroups(name);
  releaseSlot(stateRoot(), name);
  return undefined;
}

export function listSandboxes(): string[] {
  let entries: string[];
  try {
    entries = readdirSync(stateRoot());
  } catch {
    return []; // no state root yet: no sandboxes
  }
  return entries.filter((name) => SANDBOX_NAME_PATTERN.test(name) && findKeeper(name) !== undefined).sort();
}

/**
 * `nsenter` arguments that run a command in the sandbox's root network namespace, as its root
 * (uid 0 inside: the sandbox's own host identity, never the caller's), under the sandbox's process
 * limit. Asking for them means entering: this process joins the sandbox's cgroups first
 * (lab/limits.ts), so that what it starts there is counted there.
 */
export function nsenterArgs(keeper: Keeper, options: { joinCgroups?: boolean } = {}): string[] {
  // Not for ending a sandbox: a full cgroup (a fork bomb at pids.max) would stop `lab down` too.
  if (options.joinCgroups !== false) joinSandboxCgroups(keeper.name, process.pid);
  // A sandbox whose root is the caller's own uid (no subordinate ids) is entered as that uid: bwrap
  // denied setgroups in it, which becoming uid 0 there would need.
  const credentials = keeper.uid === process.getuid?.() ? ['--preserve-credentials'] : [];
  return ['nsenter', `--target=${keeper.pid}`, ...credentials, '--user', '--mount', '--net', '--pid', '--uts', '--ipc', '--cgroup', '--', ...nprocPrefix()];
}

// ---------------------------------------------------------------------------------------------
// What the machine needs.

export interface Problem {
  what: string;
  fix: string;
}

function readSysctl(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined; // the setting does not exist on this kernel
  }
}

function onPath(binary: string): boolean {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin', '/bin']);
  return dirs.some((dir) => {
    try {
      accessSync(join(dir, binary), constants.X_OK);
      return true;
    } catch {
      return false; // not in this directory
    }
  });
}

/** Everything missing for making sandboxes and running the fabric, each with its fix. */
export function preflight(): Problem[] {
  const problems: Problem[] = [];
  const packages: [string, string][] = [
    ['unshare', 'util-linux'],
    ['nsenter', 'util-linux'],
    ['setpriv', 'util-linux'],
    ['bwrap', 'bubblewrap'],
    ['ip', 'iproute2'],
    ['bird', 'bird'],
    ['birdc', 'bird'],
    ['vtysh', 'frr'],
    ['ping', 'iputils-ping'],
  ];
  for (const [binary, pkg] of packages) {
    if (!onPath(binary)) problems.push({ what: `${binary} is not installed`, fix: `sudo apt-get install ${pkg}` });
  }
  for (const daemon of ['zebra', 'bgpd', 'bfdd', 'staticd']) {
    if (!existsSync(`/usr/lib/frr/${daemon}`)) problems.push({ what: `/usr/lib/frr/${daemon} is missing`, fix: 'sudo apt-get install frr' });
  }
  const birdVersion = spawnSync('bird', ['--version'], { encoding: 'utf8' });
  if (birdVersion.status === 0 || birdVersion.stderr) {
    const text = `${birdVersion.stdout}${birdVersion.stderr}`;
    if (/version 2\./.test(text)) {
      problems.push({ what: `bird is BIRD 2 (${text.trim()}); the lab needs BIRD 1.6, as calico-node runs`, fix: 'sudo apt-get install bird (it replaces bird2)' });
    }
  }
  const maxUserNs = readSysctl('/proc/sys/user/max_user_namespaces');
  if (maxUserNs === '0') {
    problems.push({ what: 'user namespaces are disabled (user.max_user_namespaces = 0)', fix: 'sudo sysctl -w user.max_user_namespaces=15000' });
  }
  if (process.getuid?.() !== 0) {
    if (readSysctl('/proc/sys/kernel/unprivileged_userns_clone') === '0') {
      problems.push({ what: 'unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0)', fix: 'sudo sysctl -w kernel.unprivileged_userns_clone=1' });
    }
    if (readSysctl('/proc/sys/kernel/apparmor_restrict_unprivileged_userns') === '1') {
      problems.push({
        what: 'AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1)',
        fix: 'sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (or run the lab as root)',
      });
    }
  }
  return problems;
}

/**
 * What sandboxes made by this process get, in words, for `lab check`: where their identities come
 * from and which limits hold. A cgroup is tried (made and removed) rather than guessed.
 */
export function sandboxGuarantees(): string[] {
  const source = identitySource();
  const identity =
    source.kind === 'reserved'
      ? `identity: root in each sandbox is a host uid of its own, from ${source.base} (reserved range)`
      : source.kind === 'subordinate'
        ? `identity: root in each sandbox is a subordinate uid of its own, from ${source.uids.start} (/etc/subuid)`
        : `identity: root in each sandbox is this user itself, so it can write what this user can: ${source.why}`;
  const limits = sandboxLimits();
  const probe = `check-${process.pid}`;
  const problems = createSandboxCgroups(probe, limits);
  removeSandboxCgroups(probe);
  const cgroups =
    problems.length === 0
      ? `limits: ${limits.pidsMax} processes, ${Math.round(limits.memoryMaxBytes / 1024 ** 2)} MiB and ${limits.cpuMax} CPU per sandbox (cgroups)`
      : `limits: ${limits.pidsMax} processes per sandbox only (RLIMIT_NPROC); no cgroup for memory and CPU: ${problems[0]}`;
  return [identity, cgroups];
}

export function formatProblems(problems: Problem[]): string {
  return [
    'lab: this machine cannot run lab sandboxes yet:',
    ...problems.map((p) => `  - ${p.what}\n    fix: ${p.fix}`),
    'scripts/install-system-packages.sh installs every package the lab needs.',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Starting and stopping.

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return []; // the process is gone
  }
}

/**
 * Ends a launcher that did not get its sandbox ready: its keeper first (PID 1 of the sandbox, whose
 * end ends the rest), since bwrap's own end would leave the keeper running.
 */
function killLauncher(pid: number | undefined): void {
  if (pid === undefined) return;
  for (const target of [...childrenOf(pid), pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** Takes the per-sandbox start lock (an exclusive file), waiting while another start holds it. */
async function withLock<T>(name: string, work: () => Promise<T>): Promise<T> {
  const root = stateRoot();
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const lock = join(root, `${name}.lock`);
  const deadline = Date.now() + KEEPER_READY_TIMEOUT_MS * 2;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(lock, 'utf8') || '0');
      if (!holder || !existsSync(`/proc/${holder}`)) {
        rmSync(lock, { force: true }); // left by a process that died while holding it
        continue;
      }
      if (Date.now() > deadline) throw new SandboxError(`Sandbox "${name}" is locked by process ${holder} (${lock})`);
      await sleep(POLL_MS);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Returns the sandbox's keeper, starting the sandbox if it is not running. */
export async function ensureSandbox(name: string): Promise<Keeper> {
  validateSandboxName(name);
  const existing = findKeeper(name);
  if (existing) return existing;
  const problems = preflight();
  if (problems.length > 0) throw new SandboxError(formatProblems(problems));
  return withLock(name, async () => {
    const again = findKeeper(name);
    if (again) return again;
    return startKeeper(name);
  });
}

async function startKeeper(name: string): Promise<Keeper> {
  const dir = stateDir(name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const limits = sandboxLimits();
  sweepEmptyCgroups();
  const cgroupProblems = createSandboxCgroups(name, limits);
  if (cgroupProblems.length > 0) {
    process.stderr.write(`lab: sandbox "${name}" runs without cgroup limits (${cgroupProblems[0]}); its processes are still limited to ${limits.pidsMax}\n`);
  }
  const identity = sandboxIdentity(stateRoot(), name, (other) => findKeeper(other) !== undefined);
  if (identity.kind === 'own') {
    process.stderr.write(`lab: sandbox "${name}" runs as your own user, so its root can write what you can: ${identity.why}\n`);
  }
  const view = sandboxView(REPO_ROOT, process.execPath);
  // Opened here, by a process that may pass through every directory above them; bwrap binds the
  // open files, so the sandbox's own uid needs no such right.
  const fds = view.binds.map((bind) => openSync(bind.source, 'r'));
  const args = view.args.map((arg) => arg.replace(/^\{fd:(\d+)\}$/, (_, index: string) => String(FIRST_BIND_FD + Number(index))));
  const command = launchCommand(identity, [...args, '--chdir', '/', '--', ...nprocPrefix(limits), 'bash', KEEPER_SCRIPT, name, REPO_ROOT]);
  // The launcher joins the sandbox's cgroups itself, before bwrap makes the cgroup namespace, so
  // that the namespace's root is the sandbox's cgroup: inside, it is "/", and nothing above it shows.
  const cgroups = sandboxCgroupDirs(name).map(({ dir }) => dir).join(' ');
  const child = spawn('sh', ['-c', JOIN_CGROUPS_THEN_EXEC, 'sh', ...command], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', ...fds],
    env: { ...sandboxEnv(process.env), LAB_CGROUP_DIRS: cgroups },
  });
  for (const fd of fds) closeSync(fd);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const deadline = Date.now() + KEEPER_READY_TIMEOUT_MS;
  let failure: string | undefined;
  for (;;) {
    if (stdout.includes('ready\n')) break;
    const outcome = await Promise.race([exited.then((code) => `exit ${code}`), spawnError.then((e) => e.message), sleep(POLL_MS).then(() => undefined)]);
    if (outcome !== undefined) {
      failure = outcome;
      break;
    }
    if (Date.now() > deadline) {
      failure = `no "ready" from the keeper within ${KEEPER_READY_TIMEOUT_MS} ms`;
      killLauncher(child.pid);
      break;
    }
  }
  if (failure !== undefined) {
    rmSync(dir, { recursive: true, force: true });
    releaseSlot(stateRoot(), name);
    const hints = [
      'Check that user namespaces are allowed: sysctl user.max_user_namespaces (must be > 0)',
      'and, for a user other than root, kernel.unprivileged_userns_clone=1 (Debian) and',
      'kernel.apparmor_restrict_unprivileged_userns=0 (Ubuntu 24.04 and later).',
    ];
    throw new SandboxError(`Could not start sandbox "${name}" (${failure}):\n${stderr.trim() || '(no output)'}\n${hints.join('\n')}`);
  }
  const unsharePid = child.pid!;
  const [pid] = childrenOf(unsharePid);
  const startTime = pid === undefined ? undefined : startTimeOf(pid);
  if (pid === undefined || startTime === undefined) {
    killLauncher(unsharePid);
    throw new SandboxError(`Sandbox "${name}": the keeper of bwrap process ${unsharePid} vanished after starting`);
  }
  // Again, in case bwrap had cloned it before the launcher joined, or another `lab` swept the cgroups while
  // they were still empty: the keeper is in them from here on, and so is all it is PID 1 of.
  createSandboxCgroups(name, limits);
  joinSandboxCgroups(name, pid);
  const keeper: Keeper = { name, stateDir: dir, pid, unsharePid, startTime, uid: identity.uid };
  writeFileSync(join(dir, 'keeper.json'), `${JSON.stringify(keeper, null, 2)}\n`);
  writeFileSync(join(dir, 'keeper.pid'), `${pid}\n`);
  child.stdout!.destroy();
  child.stderr!.destroy();
  child.unref();
  return keeper;
}

/**
 * Ends a sandbox: SIGTERM to its keeper (it exits; the kernel then kills every process in the
 * PID namespace), waits until the keeper and its unshare parent are gone, removes the state.
 * Returns false when no such sandbox was running.
 */
export async function stopSandbox(name: string): Promise<boolean> {
  const keeper = findKeeper(name);
  if (!keeper) return false;
  process.kill(keeper.pid, 'SIGTERM');
  const deadline = Date.now() + KEEPER_EXIT_TIMEOUT_MS;
  while (alive(keeper.pid, keeper.startTime) || existsSync(`/proc/${keeper.unsharePid}`)) {
    if (Date.now() > deadline) {
      // The keeper ignored SIGTERM (stopped, or stuck in the kernel): end it for certain.
      process.kill(keeper.pid, 'SIGKILL');
    }
    if (Date.now() > deadline + KEEPER_EXIT_TIMEOUT_MS) {
      throw new SandboxError(`Sandbox "${name}": keeper ${keeper.pid} did not exit after SIGTERM and SIGKILL`);
    }
    await sleep(POLL_MS);
  }
  rmSync(keeper.stateDir, { recursive: true, force: true });
  removeSandboxCgroups(name);
  sweepEmptyCgroups();
  releaseSlot(stateRoot(), name);
  return true;
}
