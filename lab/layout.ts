// Where things live in a lab sandbox, and how to run a command in one of its devices.
//
// This module is the stable surface the rest of the lab (and the cluster emulation in lab/cluster/)
// builds on. Paths are as seen from inside the sandbox (its private mounts: /run, /etc/frr,
// /etc/bird, /tmp, /var/tmp are tmpfs); from the host, reach them with `execInDevice(...)` or
// `deviceCommand(...)`, which enter the sandbox first. Every function works both from a host
// process and from a process already inside the sandbox (a learner's terminal, a lab service).
//
//   /run/lab/sandbox                      the sandbox's name (its presence means "inside")
//   /run/lab/bin/                         on PATH in every lab shell: `lab`, and tools services add
//   /run/lab/devices/<device>/bin/        first on PATH in that device (vtysh → `vtysh -N <device>`, birdc)
//   /run/lab/devices/<device>/home/       $HOME in that device's shells
//   /run/lab/devices/<device>/log/        daemon and service logs of that device (zebra.log, bird.log, …)
//   /run/lab/services/<device>/<name>.*   a service's pid file
//   /etc/frr/<device>/frr.conf            FRR integrated config (daemons run with -N <device>)
//   /run/frr/<device>/                    FRR vty sockets and pid files
//   /etc/bird/<device>/bird.conf          BIRD 1.6 config of a node
//   /run/bird/<device>/bird.ctl           BIRD's control socket of a node (birdc -s …)

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, SandboxError, currentSandbox, findKeeper, nsenterArgs, sandboxEnv, validateSandboxName } from './sandbox.ts';
import { findPod, type Pod, type Topology } from './topology.ts';

export { REPO_ROOT, currentSandbox, stateDir } from './sandbox.ts';

/** The sandbox's root network namespace, where the `lab host` terminal runs. */
export const HOST_DEVICE = 'host';

export const LAB_RUN_DIR = '/run/lab';
export const SANDBOX_BIN_DIR = '/run/lab/bin';
export const DEVICE_ENTER_SCRIPT = join(REPO_ROOT, 'lab', 'shell', 'device-enter.sh');
export const SHELL_RC = join(REPO_ROOT, 'lab', 'shell', 'bashrc');
/** The lab CLI wrapper; also linked as /run/lab/bin/lab inside every sandbox. */
export const LAB_BIN = join(REPO_ROOT, 'lab', 'bin', 'lab');

export function deviceDir(device: string): string {
  return join(LAB_RUN_DIR, 'devices', device);
}
export function deviceBinDir(device: string): string {
  return join(deviceDir(device), 'bin');
}
export function deviceHome(device: string): string {
  return join(deviceDir(device), 'home');
}
export function deviceLogDir(device: string): string {
  return join(deviceDir(device), 'log');
}
export function serviceDir(device: string): string {
  return join(LAB_RUN_DIR, 'services', device);
}

export function frrConfigDir(device: string): string {
  return join('/etc/frr', device);
}
export function frrConfigPath(device: string): string {
  return join(frrConfigDir(device), 'frr.conf');
}
export function frrRunDir(device: string): string {
  return join('/run/frr', device);
}
/** Log of one FRR daemon (zebra, bgpd, bfdd, staticd) of a switch. */
export function frrLogPath(device: string, daemon: string): string {
  return join(deviceLogDir(device), `${daemon}.log`);
}

export function birdConfigDir(device: string): string {
  return join('/etc/bird', device);
}
export function birdConfigPath(device: string): string {
  return join(birdConfigDir(device), 'bird.conf');
}
export function birdRunDir(device: string): string {
  return join('/run/bird', device);
}
export function birdSocketPath(device: string): string {
  return join(birdRunDir(device), 'bird.ctl');
}
export function birdPidPath(device: string): string {
  return join(birdRunDir(device), 'bird.pid');
}
export function birdLogPath(device: string): string {
  return join(deviceLogDir(device), 'bird.log');
}

/** The Node.js that runs this code: use it to start TypeScript services inside the sandbox. */
export function nodeCommand(script: string, args: string[] = []): string[] {
  return [process.execPath, script, ...args];
}

// ---------------------------------------------------------------------------------------------
// Running commands in a sandbox.

/** Prefix that enters the sandbox from the host; empty when already inside it. */
export function sandboxPrefix(sandbox: string): string[] {
  validateSandboxName(sandbox);
  const inside = currentSandbox();
  if (inside !== undefined) {
    if (inside !== sandbox) {
      throw new SandboxError(`This process runs inside sandbox "${inside}"; it cannot reach sandbox "${sandbox}"`);
    }
    return [];
  }
  const keeper = findKeeper(sandbox);
  if (!keeper) throw new SandboxError(`Sandbox "${sandbox}" is not running; start it with: lab --sandbox ${sandbox} up`);
  return nsenterArgs(keeper);
}

export interface DeviceTarget {
  /** Network namespace inside the sandbox, or undefined for the sandbox's root (`host`). */
  netns: string | undefined;
  /** What `hostname` prints in it. */
  hostname: string;
  /** The name of its directories under /run/lab/devices. */
  device: string;
}

/**
 * Resolves what a command can run in: `host`, a device of the topology, or a pod as
 * `namespace/name` (or a pod name unique across namespaces). Unknown names throw, listing valid ones.
 */
export function resolveTarget(topology: Topology, name: string, pods: Pod[] = topology.pods): DeviceTarget {
  if (name === HOST_DEVICE) return { netns: undefined, hostname: 'lab-host', device: HOST_DEVICE };
  const device = topology.devices.find((d) => d.name === name);
  if (device) return { netns: device.name, hostname: device.hostname, device: device.name };
  const pod = findPod(pods, name);
  if (pod) return { netns: pod.netns, hostname: pod.name, device: pod.netns };
  throw new SandboxError(
    `Unknown device "${name}"; devices: ${[HOST_DEVICE, ...topology.devices.map((d) => d.name)].join(', ')}` +
      `; pods: ${pods.map((p) => `${p.namespace}/${p.name}`).join(', ') || '(none)'}`,
  );
}

/**
 * The argv that runs `argv` in a device of a sandbox, from anywhere: it enters the sandbox (when
 * outside), the device's network namespace and a private UTS namespace holding the device's
 * hostname, with the device's PATH and HOME (see lab/shell/device-enter.sh). Exit codes pass through.
 */
export function deviceCommand(sandbox: string, target: DeviceTarget, argv: string[]): string[] {
  const enter = ['unshare', '--uts', '--', 'sh', DEVICE_ENTER_SCRIPT, target.device, target.hostname, '--', ...argv];
  const inNetns = target.netns === undefined ? enter : ['ip', 'netns', 'exec', target.netns, ...enter];
  return [...sandboxPrefix(sandbox), ...inNetns];
}

/** The argv that runs `argv` in the sandbox's root namespaces, without device setup. */
export function sandboxCommand(sandbox: string, argv: string[]): string[] {
  return [...sandboxPrefix(sandbox), ...argv];
}

export interface ExecResult {
  /** Exit code, or 128 + signal number when killed by a signal (as a shell reports it). */
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Written to the command's stdin, then closed. */
  input?: string;
  env?: NodeJS.ProcessEnv;
  /** Kills the command (SIGKILL) after this long; the result then has code 137. */
  timeoutMs?: number;
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** Runs a command to completion and collects its output. Never throws for a non-zero exit. */
export function run(argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const env = options.env ?? process.env;
    const child = spawn(argv[0]!, argv.slice(1), { env: argv[0] === 'nsenter' ? sandboxEnv(env) : env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new SandboxError(`Could not run ${argv[0]}: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 1) : 1), stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // the command may exit without reading its input
    child.stdin.end(options.input ?? '');
  });
}

/**
 * Runs a command in a device of a sandbox (`host`, a device name, or a pod) and collects its output.
 * Example: `await execInDevice('default', topology, 'leaf10', ['vtysh', '-c', 'show bgp summary'])`.
 */
export function execInDevice(sandbox: string, topology: Topology, device: string, argv: string[], options: ExecOptions = {}): Promise<ExecResult> {
  return run(deviceCommand(sandbox, resolveTarget(topology, device), argv), options);
}

/** Writes a file inside a sandbox (for example a rendered bird.conf), creating its directory. */
export async function writeSandboxFile(sandbox: string, path: string, content: string): Promise<void> {
  const result = await run(sandboxCommand(sandbox, ['sh', '-c', 'mkdir -p "$(dirname "$1")" && cat > "$1"', 'sh', path]), { input: content });
  if (result.code !== 0) throw new SandboxError(`Could not write ${path} in sandbox "${sandbox}": ${result.stderr.trim()}`);
}

/** Resolves the sandbox a `lab` command acts on: --sandbox, else $LAB_SANDBOX, else the one we are in, else "default". */
export function selectedSandbox(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return validateSandboxName(explicit ?? env.LAB_SANDBOX ?? currentSandbox() ?? 'default');
}
