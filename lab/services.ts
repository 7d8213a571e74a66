// Long-running per-device services of a lab: processes started after the fabric is up, stopped on
// `lab down`, frozen and thawed with their device by `lab fail … --mode silent` / `lab restore`, and
// stopped/started with it by `--mode stop`. The fabric itself (FRR, BIRD) is not a service; services
// are what runs on top of it (an API server, calico-node agents, kubelet heartbeats).
//
// Declaring services: a module `lab/cluster/services.ts` (loaded when present) exports
//   export const services: ServiceDefinition[] = [ … ];
// or any module imported by the lab calls `registerService(definition)`.
//
// A service runs inside the sandbox, in its device's network namespace, through the same entry as
// `lab exec DEVICE` (device hostname, HOME, PATH with the device's wrappers). Its stdout and stderr
// go to /run/lab/devices/<device>/log/<name>.log, its pid to /run/lab/services/<device>/<name>.pid.
// `lab up` starts the services that are not running (idempotent); a service that exits is not
// restarted until the next `lab up`.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { currentSandbox, deviceCommand, deviceLogDir, resolveTarget, run, serviceDir } from './layout.ts';
import type { Topology } from './topology.ts';

export interface ServiceDefinition {
  /** Unique per device; names its log and pid files: `calico-node`. */
  name: string;
  /** The devices it runs on (device names of the topology, or `host`). */
  devices: (topology: Topology) => string[];
  /** The command, run in the device. Use layout.nodeCommand(script) for a TypeScript program. */
  command: (device: string, topology: Topology) => string[];
  /** Extra environment; LAB_SANDBOX and LAB_DEVICE are always set. */
  env?: (device: string, topology: Topology) => Record<string, string>;
  /** Polled in the device after start until it exits 0 (e.g. a health check). */
  ready?: { command: (device: string, topology: Topology) => string[]; timeoutMs: number };
  /** Order among services: lower starts first and stops last. Default 100. */
  order?: number;
}

const registry: ServiceDefinition[] = [];

export function registerService(definition: ServiceDefinition): void {
  if (registry.some((s) => s.name === definition.name)) {
    throw new Error(`Service "${definition.name}" is already registered`);
  }
  registry.push(definition);
}

const CLUSTER_SERVICES_MODULE = new URL('./cluster/services.ts', import.meta.url);

/** Every declared service: registered ones plus lab/cluster/services.ts's `services`, by order. */
export async function loadServices(): Promise<ServiceDefinition[]> {
  const all = [...registry];
  if (existsSync(CLUSTER_SERVICES_MODULE)) {
    const module = (await import(CLUSTER_SERVICES_MODULE.href)) as { services?: ServiceDefinition[] };
    if (!Array.isArray(module.services)) {
      throw new Error(`${CLUSTER_SERVICES_MODULE.pathname} must export "services" (an array of ServiceDefinition)`);
    }
    for (const service of module.services) {
      if (!all.some((s) => s.name === service.name)) all.push(service);
    }
  }
  return all.sort((a, b) => (a.order ?? 100) - (b.order ?? 100));
}

/** Stop and stop-freeze wait this long for a service to exit after SIGTERM before SIGKILL. */
const STOP_TIMEOUT_MS = 3_000;
const POLL_MS = 20;

function pidPath(device: string, name: string): string {
  return join(serviceDir(device), `${name}.pid`);
}

export function serviceLogPath(device: string, name: string): string {
  return join(deviceLogDir(device), `${name}.log`);
}

/** The pid of a running service, or undefined. A pid file of a dead process is removed. */
export function servicePid(device: string, name: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(pidPath(device, name), 'utf8').trim());
  } catch {
    return undefined; // no pid file: not started
  }
  let state: string | undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    state = undefined; // the process is gone
  }
  if (state === undefined || state === 'Z') {
    rmSync(pidPath(device, name), { force: true });
    return undefined;
  }
  return pid;
}

function requireInside(sandbox: string): void {
  if (currentSandbox() !== sandbox) {
    throw new Error(`Services of sandbox "${sandbox}" are managed from inside it (through the lab CLI)`);
  }
}

export interface ServiceInstance {
  name: string;
  device: string;
}

function instances(services: ServiceDefinition[], topology: Topology, only?: Set<string>): [ServiceDefinition, string][] {
  return services.flatMap((service) =>
    service.devices(topology)
      .filter((device) => only === undefined || only.has(device))
      .map((device): [ServiceDefinition, string] => [service, device]),
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Starts every declared service that is not running, on the given devices (all when omitted).
 * Waits for each one's readiness probe. Returns the services it started.
 */
export async function startServices(sandbox: string, topology: Topology, devices?: string[], report: (line: string) => void = () => undefined): Promise<ServiceInstance[]> {
  requireInside(sandbox);
  const services = await loadServices();
  const started: ServiceInstance[] = [];
  for (const [service, device] of instances(services, topology, devices && new Set(devices))) {
    if (servicePid(device, service.name) !== undefined) continue;
    const target = resolveTarget(topology, device);
    mkdirSync(serviceDir(device), { recursive: true });
    mkdirSync(deviceLogDir(device), { recursive: true });
    const log = openSync(serviceLogPath(device, service.name), 'a');
    const argv = deviceCommand(sandbox, target, service.command(device, topology));
    const child = spawn(argv[0]!, argv.slice(1), {
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...process.env, ...service.env?.(device, topology), LAB_SANDBOX: sandbox, LAB_DEVICE: device },
    });
    closeSync(log);
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid!));
      child.once('error', (error) => reject(new Error(`Service ${service.name} on ${device}: ${error.message}`)));
    });
    child.unref();
    writeFileSync(pidPath(device, service.name), `${pid}\n`);
    report(`${device}: started ${service.name} (pid ${pid})`);
    if (service.ready) {
      const deadline = Date.now() + service.ready.timeoutMs;
      const probe = deviceCommand(sandbox, target, service.ready.command(device, topology));
      for (;;) {
        const result = await run(probe);
        if (result.code === 0) break;
        if (servicePid(device, service.name) === undefined) {
          throw new Error(`Service ${service.name} on ${device} exited while starting; see ${serviceLogPath(device, service.name)}`);
        }
        if (Date.now() > deadline) {
          throw new Error(`Service ${service.name} on ${device} was not ready within ${service.ready.timeoutMs} ms: ${(result.stderr || result.stdout).trim()}`);
        }
        await sleep(POLL_MS * 5);
      }
    }
    started.push({ name: service.name, device });
  }
  return started;
}

/** Stops the declared services on the given devices (all when omitted), last-started first. */
export async function stopServices(sandbox: string, topology: Topology, devices?: string[]): Promise<ServiceInstance[]> {
  requireInside(sandbox);
  const services = await loadServices();
  const stopped: ServiceInstance[] = [];
  const running = instances(services, topology, devices && new Set(devices))
    .reverse()
    .map(([service, device]) => ({ service, device, pid: servicePid(device, service.name) }))
    .filter((entry): entry is { service: ServiceDefinition; device: string; pid: number } => entry.pid !== undefined);
  for (const { pid } of running) {
    try {
      process.kill(pid, 'SIGCONT'); // a frozen (silent-failed) service must run to handle SIGTERM
      process.kill(pid, 'SIGTERM');
    } catch {
      // it exited between the check and the signal: nothing to stop
    }
  }
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  for (const { service, device, pid } of running) {
    while (servicePid(device, service.name) !== undefined) {
      if (Date.now() > deadline) {
        process.kill(pid, 'SIGKILL');
        await sleep(POLL_MS);
        continue;
      }
      await sleep(POLL_MS);
    }
    stopped.push({ name: service.name, device });
  }
  return stopped;
}

/** Sends a signal to the services of a device (SIGSTOP/SIGCONT for silent failure and restore). */
export async function signalServices(sandbox: string, topology: Topology, device: string, signal: 'SIGSTOP' | 'SIGCONT'): Promise<number> {
  requireInside(sandbox);
  let count = 0;
  for (const [service] of instances(await loadServices(), topology, new Set([device]))) {
    const pid = servicePid(device, service.name);
    if (pid === undefined) continue;
    process.kill(pid, signal);
    count += 1;
  }
  return count;
}

/** Declared services with their state, for `lab status`. */
export async function listServices(topology: Topology): Promise<{ name: string; device: string; pid: number | undefined }[]> {
  return instances(await loadServices(), topology).map(([service, device]) => ({ name: service.name, device, pid: servicePid(device, service.name) }));
}
