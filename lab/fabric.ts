// The fabric inside a sandbox: device network namespaces, veth links, addresses, routes, sysctls,
// FRR on switches, BIRD on nodes, pods; failures and their restoration. Everything here runs
// INSIDE the sandbox (the lab CLI re-executes itself there), so paths are the sandbox's private
// ones and `ip netns` names are the sandbox's own. Every step is idempotent: `lab up` on a lab that
// is up changes nothing, and on a half-built one completes it.

import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { BOOTSTRAP_CONFIG_HEADER, renderBirdConfig } from './bird-config.ts';
import { renderFrrConfig, renderVtyshConfig } from './frr-config.ts';
import { formatCidr } from './ipv4.ts';
import {
  LAB_RUN_DIR,
  birdConfigDir,
  birdConfigPath,
  birdLogPath,
  birdPidPath,
  birdRunDir,
  birdSocketPath,
  deviceBinDir,
  deviceHome,
  deviceLogDir,
  frrConfigDir,
  frrConfigPath,
  frrLogPath,
  frrRunDir,
  run,
  type ExecResult,
} from './layout.ts';
import { secondsSince, type Progress } from './progress.ts';
import { signalServices, startServices, stopServices } from './services.ts';
import { findDevice, findLink, type Device, type Link, type NodeDevice, type Pod, type Switch, type Topology } from './topology.ts';

export const FRR_DAEMONS = ['zebra', 'bgpd', 'bfdd', 'staticd'] as const;
const FRR_BIN = '/usr/lib/frr';
/** Calico's workload gateway: a link-local address every pod routes through (answered by the node). */
export const POD_GATEWAY = '169.254.1.1';
/** Calico gives every host-side workload veth this MAC. */
export const CALI_MAC = 'ee:ee:ee:ee:ee:ee';
/** Daemons exit within this after SIGTERM; longer means stuck. */
const DAEMON_STOP_TIMEOUT_MS = 3_000;
const POLL_MS = 20;
/** Asking every bgpd and BIRD costs ~10 ms of CPU each; ten times a second is enough. */
const POLL_SESSIONS_MS = 100;

export type FailureMode = 'link' | 'stop' | 'silent';
export const FAILURE_MODES: FailureMode[] = ['link', 'stop', 'silent'];

export interface Failure {
  /** A device name or a link id. */
  target: string;
  mode: FailureMode;
  /** For mode link: the interfaces set down, as device:iface. */
  interfaces?: string[];
}

export class FabricError extends Error {
  override name = 'FabricError';
}

export type Report = (line: string) => void;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function must(argv: string[], what: string, input?: string): Promise<ExecResult> {
  const result = await run(argv, input === undefined ? {} : { input });
  if (result.code !== 0) {
    throw new FabricError(`${what} failed (exit ${result.code}): ${argv.join(' ')}\n${(result.stderr || result.stdout).trim()}`);
  }
  return result;
}

/** Runs a POSIX shell script (set -e) in the sandbox's root namespaces. */
function script(lines: string[], what: string): Promise<ExecResult> {
  return must(['sh', '-ec', lines.join('\n')], what);
}

function quote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

export function existingNetns(): Set<string> {
  try {
    return new Set(readdirSync('/run/netns'));
  } catch {
    return new Set(); // no /run/netns yet: no namespaces
  }
}

function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false; // gone
  }
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && processAlive(pid) ? pid : undefined;
  } catch {
    return undefined; // no pid file
  }
}

export function frrPids(device: string): Map<string, number | undefined> {
  return new Map(FRR_DAEMONS.map((daemon) => [daemon, readPid(join(frrRunDir(device), `${daemon}.pid`))]));
}

export function birdPid(device: string): number | undefined {
  return readPid(birdPidPath(device));
}

// ---------------------------------------------------------------------------------------------
// Failures are recorded in the sandbox, so `lab restore` and `lab status` know them.

const FAILURES_PATH = join(LAB_RUN_DIR, 'failures.json');

export function readFailures(): Failure[] {
  try {
    return JSON.parse(readFileSync(FAILURES_PATH, 'utf8')) as Failure[];
  } catch {
    return []; // no failures recorded
  }
}

function writeFailures(failures: Failure[]): void {
  writeFileSync(FAILURES_PATH, `${JSON.stringify(failures, null, 2)}\n`);
}

// ---------------------------------------------------------------------------------------------
// Bring-up.

/** Per-netns settings: routers forward; nodes hash ECMP on L4 and skip nexthops with failed neighbours. */
function sysctlLines(device: Device): string[] {
  const settings: [string, string][] = [
    ['net/ipv4/ip_forward', '1'],
    ['net/ipv4/conf/all/forwarding', '1'],
    ['net/ipv6/conf/all/forwarding', device.kind === 'node' ? '0' : '1'],
    // Links come up at once: no duplicate address detection delaying IPv6 link-local addresses
    // (BGP unnumbered runs over them).
    ['net/ipv6/conf/all/accept_dad', '0'],
    ['net/ipv6/conf/default/accept_dad', '0'],
    // As Cumulus does: a route through an interface without carrier is not used, so a link that
    // goes down takes its ECMP next hops with it at once.
    ['net/ipv4/conf/all/ignore_routes_with_linkdown', '1'],
    ['net/ipv4/conf/default/ignore_routes_with_linkdown', '1'],
    ['net/ipv4/conf/all/rp_filter', '0'],
    ['net/ipv4/conf/default/rp_filter', '0'],
  ];
  if (device.kind === 'node') {
    settings.push(['net/ipv4/fib_multipath_hash_policy', '1'], ['net/ipv4/fib_multipath_use_neigh', '1']);
  }
  return settings.map(([key, value]) => `echo ${value} > /proc/sys/${key}`);
}

async function createNetns(device: Device): Promise<void> {
  await script(
    [
      `ip netns add ${device.name}`,
      `ip netns exec ${device.name} sh -ec ${quote(sysctlLines(device).join('\n'))}`,
      `ip -n ${device.name} link set lo up`,
      `ip -n ${device.name} addr add ${formatCidr(device.loopback)} dev lo`,
    ],
    `Creating ${device.name}`,
  );
}

function linkExists(endpoint: { device: string; iface: string }): Promise<boolean> {
  return run(['ip', '-n', endpoint.device, 'link', 'show', 'dev', endpoint.iface]).then((r) => r.code === 0);
}

/** Creates the links whose both devices exist and that are missing; returns them. */
async function createLinks(topology: Topology, present: Set<string>): Promise<Link[]> {
  const candidates = topology.links.filter((link) => present.has(link.a.device) && present.has(link.b.device));
  const missing: Link[] = [];
  for (const link of candidates) {
    const [a, b] = await Promise.all([linkExists(link.a), linkExists(link.b)]);
    if (a && b) continue;
    // A half-built link (one end left from an interrupted run) is removed and made again.
    if (a) await must(['ip', '-n', link.a.device, 'link', 'del', link.a.iface], `Removing half-built ${link.id}`);
    if (b) await must(['ip', '-n', link.b.device, 'link', 'del', link.b.iface], `Removing half-built ${link.id}`);
    missing.push(link);
  }
  if (missing.length > 0) {
    const batch = missing.map((link) => `link add ${link.a.iface} netns ${link.a.device} type veth peer name ${link.b.iface} netns ${link.b.device}`);
    await must(['ip', '-batch', '-'], 'Creating links', `${batch.join('\n')}\n`);
  }
  return missing;
}

/** Interface state of a device: bridge, addresses, routes. Idempotent; only existing ports. */
async function configureInterfaces(device: Device): Promise<void> {
  const present = await Promise.all(device.ports.map(async (port) => ((await linkExists({ device: device.name, iface: port.iface })) ? port : undefined)));
  const ports = present.filter((p) => p !== undefined);
  const failedDown = new Set(readFailures().flatMap((f) => (f.mode === 'link' ? f.interfaces ?? [] : [])));
  const up = (iface: string) => (failedDown.has(`${device.name}:${iface}`) ? [] : [`link set ${iface} up`]);
  const batch: string[] = [];
  if (device.kind === 'leaf') {
    const bridge = await linkExists({ device: device.name, iface: 'VLAN10' });
    if (!bridge) batch.push('link add VLAN10 type bridge');
    batch.push('link set VLAN10 up', `addr replace ${formatCidr(device.vlan10)} dev VLAN10`);
    for (const port of ports) {
      if (device.nodePorts.includes(port.iface)) batch.push(`link set ${port.iface} master VLAN10`);
      batch.push(...up(port.iface));
    }
  } else if (device.kind === 'spine') {
    for (const port of ports) batch.push(...up(port.iface));
  } else {
    for (const port of ports) batch.push(`addr replace ${formatCidr(port.address!)} dev ${port.iface}`, ...up(port.iface));
    // Bootstrap ECMP routes through the TORs whose links exist.
    const reachable = new Set(device.tors.filter((tor) => ports.some((p) => p.iface === tor.iface)).map((tor) => tor.gateway));
    for (const route of device.staticRoutes) {
      const via = route.via.filter((gateway) => reachable.has(gateway));
      if (via.length === 0) continue;
      batch.push(`route replace ${route.prefix} proto static ${via.map((gateway) => `nexthop via ${gateway}`).join(' ')}`);
    }
  }
  if (batch.length > 0) await must(['ip', '-n', device.name, '-batch', '-'], `Configuring ${device.name}'s interfaces`, `${batch.join('\n')}\n`);
}

function writeDeviceFiles(device: Device, topology: Topology): void {
  for (const dir of [deviceBinDir(device.name), deviceHome(device.name), deviceLogDir(device.name)]) mkdirSync(dir, { recursive: true });
  const wrapper = (name: string, body: string) => {
    const path = join(deviceBinDir(device.name), name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
  };
  if (device.kind === 'node') {
    mkdirSync(birdConfigDir(device.name), { recursive: true });
    mkdirSync(birdRunDir(device.name), { recursive: true });
    // calico-node may already have rendered its own configuration: never overwrite it.
    if (!existsSync(birdConfigPath(device.name))) writeFileSync(birdConfigPath(device.name), renderBirdConfig(device, topology));
    wrapper('birdc', `exec /usr/sbin/birdc -s ${birdSocketPath(device.name)} "$@"`);
  } else {
    mkdirSync(frrConfigDir(device.name), { recursive: true });
    mkdirSync(frrRunDir(device.name), { recursive: true });
    if (!existsSync(frrConfigPath(device.name))) writeFileSync(frrConfigPath(device.name), renderFrrConfig(device));
    writeFileSync(join(frrConfigDir(device.name), 'vtysh.conf'), renderVtyshConfig(device));
    wrapper('vtysh', `exec /usr/bin/vtysh -N ${device.name} "$@"`);
  }
}

/**
 * Prefix that runs a daemon in a device: its network namespace, and a UTS namespace of its own
 * holding the device's hostname (BGP's hostname capability and BIRD's messages show it).
 */
function inDevice(device: Device): string[] {
  return ['ip', 'netns', 'exec', device.name, 'unshare', '--uts', '--', 'sh', '-c', 'hostname "$0" && exec "$@"', device.hostname];
}

/**
 * Starts FRR on a switch unless all its daemons run. Each daemon reads the integrated frr.conf
 * itself at start-up (`-f`), skipping the other daemons' lines, rather than getting it from
 * `vtysh -b` afterwards: bgpd holds every peer for seconds after a vtysh configuration load,
 * which alone would exceed the lab's bring-up budget.
 */
async function startFrr(device: Switch): Promise<boolean> {
  const pids = frrPids(device.name);
  if ([...pids.values()].every((pid) => pid !== undefined)) return false;
  if ([...pids.values()].some((pid) => pid !== undefined)) await stopFrr(device); // half running: start clean
  const common = ['-d', '-N', device.name, '-F', 'datacenter', '-u', 'root', '-g', 'root', '-P', '0', '-f', frrConfigPath(device.name)];
  const start = (daemon: string) => [
    ...inDevice(device),
    join(FRR_BIN, daemon),
    ...common,
    '--log', `file:${frrLogPath(device.name, daemon)}`,
    '-i', join(frrRunDir(device.name), `${daemon}.pid`),
  ];
  // zebra first: the others connect to it. With -d a daemon returns once its sockets are ready.
  await must(start('zebra'), `Starting zebra on ${device.name}`);
  await Promise.all(['bgpd', 'bfdd', 'staticd'].map((daemon) => must(start(daemon), `Starting ${daemon} on ${device.name}`)));
  return true;
}

async function waitGone(pids: number[], what: string): Promise<void> {
  const deadline = Date.now() + DAEMON_STOP_TIMEOUT_MS;
  while (pids.some(processAlive)) {
    if (Date.now() > deadline) {
      for (const pid of pids.filter(processAlive)) process.kill(pid, 'SIGKILL');
      throw new FabricError(`${what}: processes ${pids.filter(processAlive).join(', ')} did not exit within ${DAEMON_STOP_TIMEOUT_MS} ms of SIGTERM; killed`);
    }
    await sleep(POLL_MS);
  }
}

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // exited meanwhile: nothing to signal
    }
  }
}

async function stopFrr(device: Switch): Promise<void> {
  const pids = [...frrPids(device.name).values()].filter((pid): pid is number => pid !== undefined);
  signal(pids, 'SIGCONT'); // a frozen daemon cannot handle SIGTERM
  signal(pids, 'SIGTERM');
  await waitGone(pids, `Stopping FRR on ${device.name}`);
}

async function startBird(node: NodeDevice): Promise<boolean> {
  if (birdPid(node.name) !== undefined) return false;
  await must(
    [...inDevice(node), 'bird', '-c', birdConfigPath(node.name), '-s', birdSocketPath(node.name), '-P', birdPidPath(node.name)],
    `Starting BIRD on ${node.name} (log: ${birdLogPath(node.name)})`,
  );
  return true;
}

async function stopBird(node: NodeDevice): Promise<void> {
  const pid = birdPid(node.name);
  if (pid === undefined) return;
  signal([pid], 'SIGCONT');
  signal([pid], 'SIGTERM');
  await waitGone([pid], `Stopping BIRD on ${node.name}`);
}

// ---------------------------------------------------------------------------------------------
// Pods.

/** Attaches a pod to its node the way Calico's CNI plugin does. Idempotent. */
export async function attachPod(pod: Pod): Promise<boolean> {
  if (existingNetns().has(pod.netns)) return false;
  const node = `ip -n ${pod.node}`;
  const inPod = `ip -n ${quote(pod.netns)}`;
  await script(
    [
      `ip netns add ${quote(pod.netns)}`,
      `${node} link add ${pod.hostIface} type veth peer name eth0 netns ${quote(pod.netns)}`,
      `${node} link set ${pod.hostIface} address ${CALI_MAC} up`,
      `ip netns exec ${pod.node} sh -c 'echo 1 > /proc/sys/net/ipv4/conf/${pod.hostIface}/proxy_arp'`,
      `${node} route replace ${pod.ip}/32 dev ${pod.hostIface} scope link`,
      `${inPod} link set lo up`,
      `${inPod} link set eth0 up`,
      `${inPod} addr add ${pod.ip}/32 dev eth0`,
      `${inPod} route add ${POD_GATEWAY} dev eth0 scope link`,
      `${inPod} route add default via ${POD_GATEWAY} dev eth0`,
      `${inPod} neigh replace ${POD_GATEWAY} lladdr ${CALI_MAC} dev eth0 nud permanent`,
    ],
    `Attaching pod ${pod.namespace}/${pod.name} to ${pod.node}`,
  );
  return true;
}

/** Removes a pod's namespace (its veth and the node's route go with it). Idempotent. */
export async function detachPod(pod: Pod): Promise<boolean> {
  if (!existingNetns().has(pod.netns)) return false;
  await script([`ip netns del ${quote(pod.netns)}`, `ip -n ${pod.node} route del ${pod.ip}/32 2>/dev/null || true`], `Removing pod ${pod.namespace}/${pod.name}`);
  return true;
}

// ---------------------------------------------------------------------------------------------
// lab up / down.

export interface UpOptions {
  sandbox: string;
  topology: Topology;
  /** Devices to bring up; all when empty. */
  devices: string[];
  /** Start the declared services (lab/services.ts) after the fabric; default true. */
  services?: boolean;
  report: Report;
  /** Told when the devices and the services phases start and end (lab/progress.ts). */
  phase?: Progress['phase'];
}

function failureOf(target: string): Failure | undefined {
  return readFailures().find((f) => f.target === target);
}

export async function up({ sandbox, topology, devices, services: withServices = true, report, phase = () => undefined }: UpOptions): Promise<void> {
  const targets = devices.length === 0 ? topology.devices : devices.map((name) => findDevice(topology, name));
  mkdirSync(join(LAB_RUN_DIR, 'devices'), { recursive: true });
  const started = Date.now();
  phase('devices', 'running');
  const before = existingNetns();
  await Promise.all(targets.filter((d) => !before.has(d.name)).map(createNetns));
  const present = new Set([...existingNetns()].filter((name) => topology.devices.some((d) => d.name === name)));
  const newLinks = await createLinks(topology, present);
  // Devices whose interfaces changed: the targets, and the far ends of links just made.
  const touched = new Set(targets.map((d) => d.name));
  for (const link of newLinks) touched.add(link.a.device).add(link.b.device);
  await Promise.all([...touched].map((name) => configureInterfaces(findDevice(topology, name))));

  await Promise.all(
    targets.map(async (device) => {
      const t0 = Date.now();
      writeDeviceFiles(device, topology);
      const notes: string[] = [];
      const failure = failureOf(device.name);
      if (failure?.mode === 'stop') {
        notes.push('daemons stopped by `lab fail --mode stop` (lab restore to start them)');
      } else if (device.kind === 'node') {
        notes.push((await startBird(device)) ? 'BIRD started' : 'BIRD running');
        const pods = topology.pods.filter((p) => p.node === device.name);
        const attached = await Promise.all(pods.map(attachPod));
        notes.push(`${pods.length} pods${attached.some(Boolean) ? '' : ' (present)'}`);
      } else {
        notes.push((await startFrr(device)) ? `FRR started (${FRR_DAEMONS.join(', ')})` : 'FRR running');
      }
      const links = device.ports.filter((p) => present.has(p.peer.device)).length;
      report(`${device.name.padEnd(13)} ${before.has(device.name) ? 'was up' : 'up    '}  ${links}/${device.ports.length} links  ${notes.join(', ')}  ${((Date.now() - t0) / 1000).toFixed(2)} s`);
    }),
  );
  report(`fabric ready in ${((Date.now() - started) / 1000).toFixed(2)} s`);
  phase('devices', 'done', { seconds: secondsSince(started) });
  if (withServices) {
    const servicesStarted = Date.now();
    phase('services', 'running');
    const services = await startServices(sandbox, topology, targets.map((d) => d.name), report);
    if (services.length > 0) report(`${services.length} services started in ${((Date.now() - started) / 1000).toFixed(2)} s`);
    phase('services', 'done', { seconds: secondsSince(servicesStarted) });
  } else {
    phase('services', 'skipped');
  }
}

/**
 * Stops services and daemons gracefully; the caller then ends the sandbox, which kills whatever is
 * left, so a daemon slow to exit is reported, not an error.
 */
export async function down(sandbox: string, topology: Topology, report: Report): Promise<void> {
  try {
    const services = await stopServices(sandbox, topology);
    if (services.length > 0) report(`stopped ${services.length} services`);
  } catch (error) {
    report(`services: ${(error as Error).message} (ending the sandbox kills them)`);
  }
  const pids = topology.devices.flatMap(daemonPids);
  signal(pids, 'SIGCONT');
  signal(pids, 'SIGTERM');
  const deadline = Date.now() + DAEMON_STOP_TIMEOUT_MS;
  while (pids.some(processAlive) && Date.now() < deadline) await sleep(POLL_MS);
  const left = pids.filter(processAlive);
  report(left.length === 0 ? 'stopped FRR and BIRD' : `stopped FRR and BIRD; ${left.length} daemons still exiting (ending the sandbox kills them)`);
}

// ---------------------------------------------------------------------------------------------
// Failures.

const SILENT_TABLE = 'lab_silent';

/** nftables rules that make a device drop everything it receives and send nothing, links up. */
export function silentRuleset(device: Device, ifaces: string[]): string {
  const netdevChains = ifaces.map(
    (iface, index) => `  chain in${index} { type filter hook ingress device "${iface}" priority -500; policy drop; }`,
  );
  return [
    `table netdev ${SILENT_TABLE} {`,
    ...netdevChains,
    '}',
    `table inet ${SILENT_TABLE} {`,
    '  chain input { type filter hook input priority -300; policy drop; }',
    '  chain forward { type filter hook forward priority -300; policy drop; }',
    '  chain output { type filter hook output priority -300; policy drop; }',
    '}',
    `table arp ${SILENT_TABLE} {`,
    '  chain input { type filter hook input priority -300; policy drop; }',
    '  chain output { type filter hook output priority -300; policy drop; }',
    '}',
    `# ${device.name}`,
    '',
  ].join('\n');
}

async function deviceInterfaces(device: string): Promise<string[]> {
  const result = await must(['ip', '-n', device, '-j', 'link', 'show'], `Listing ${device}'s interfaces`);
  return (JSON.parse(result.stdout) as { ifname: string }[]).map((l) => l.ifname).filter((name) => name !== 'lo');
}

function daemonPids(device: Device): number[] {
  if (device.kind === 'node') return [birdPid(device.name)].filter((p): p is number => p !== undefined);
  return [...frrPids(device.name).values()].filter((p): p is number => p !== undefined);
}

export interface FailOptions {
  sandbox: string;
  topology: Topology;
  target: string;
  mode: FailureMode;
  report: Report;
}

/** Resolves a fail/restore target: a device or a link, with an error listing valid ones. */
export function resolveFailTarget(topology: Topology, target: string): { device?: Device; link?: Link } {
  const device = topology.devices.find((d) => d.name === target);
  if (device) return { device };
  const link = findLink(topology, target);
  if (link) return { link };
  throw new FabricError(
    `Unknown device or link "${target}"; devices: ${topology.devices.map((d) => d.name).join(', ')}; ` +
      `links: DEVICE:IFACE of either end (e.g. leaf10:swp1) or ${topology.links[0]?.id ?? 'a:x--b:y'}`,
  );
}

export async function fail({ sandbox, topology, target, mode, report }: FailOptions): Promise<void> {
  if (!FAILURE_MODES.includes(mode)) throw new FabricError(`Unknown mode "${mode}"; modes: ${FAILURE_MODES.join(', ')}`);
  const { device, link } = resolveFailTarget(topology, target);
  const name = device?.name ?? link!.id;
  const existing = readFailures().find((f) => f.target === name);
  if (existing) throw new FabricError(`${name} has already failed (mode ${existing.mode}); run: lab restore ${name}`);
  const present = existingNetns();
  if (device && !present.has(device.name)) throw new FabricError(`${device.name} is not up; run: lab up ${device.name}`);
  let failure: Failure;
  if (link) {
    if (mode !== 'link') throw new FabricError(`A link fails only with --mode link (got --mode ${mode}); stop or silence a device instead: ${link.a.device}, ${link.b.device}`);
    // The named end goes down (as `ifdown` on that switch would); the peer loses carrier.
    const end = target.includes('--') || `${link.a.device}:${link.a.iface}` === target ? link.a : link.b;
    await must(['ip', '-n', end.device, 'link', 'set', end.iface, 'down'], `Setting ${end.device}:${end.iface} down`);
    failure = { target: name, mode, interfaces: [`${end.device}:${end.iface}`] };
    report(`${end.device}:${end.iface} down (link ${link.id})`);
  } else if (mode === 'link') {
    // Only the links that exist: a device may be up while some of its peers are not.
    const existing = new Set(await deviceInterfaces(device!.name));
    const ports = device!.ports.map((p) => p.iface).filter((iface) => existing.has(iface));
    if (ports.length === 0) throw new FabricError(`${device!.name} has no links yet (its peers are not up)`);
    await must(['ip', '-n', device!.name, '-batch', '-'], `Setting ${device!.name}'s links down`, `${ports.map((p) => `link set ${p} down`).join('\n')}\n`);
    failure = { target: name, mode, interfaces: ports.map((p) => `${device!.name}:${p}`) };
    report(`${device!.name}: ${ports.join(', ')} down`);
  } else if (mode === 'stop') {
    const services = await stopServices(sandbox, topology, [device!.name]);
    if (device!.kind === 'node') await stopBird(device!);
    else await stopFrr(device!);
    failure = { target: name, mode };
    report(`${device!.name}: ${device!.kind === 'node' ? 'BIRD' : `FRR (${FRR_DAEMONS.join(', ')})`}${services.length ? ` and ${services.length} services` : ''} stopped`);
  } else {
    const ifaces = await deviceInterfaces(device!.name);
    await must(['ip', 'netns', 'exec', device!.name, 'nft', '-f', '-'], `Silencing ${device!.name} with nftables (package nftables)`, silentRuleset(device!, ifaces));
    const pids = daemonPids(device!);
    signal(pids, 'SIGSTOP');
    const services = await signalServices(sandbox, topology, device!.name, 'SIGSTOP');
    failure = { target: name, mode };
    report(`${device!.name}: silent (links up; drops everything on ${ifaces.join(', ')}; ${pids.length} daemons${services ? ` and ${services} services` : ''} frozen)`);
  }
  writeFailures([...readFailures(), failure]);
}

/** Restores one failure (target given) or all of them. Returns how many were restored. */
export async function restore(sandbox: string, topology: Topology, target: string | undefined, report: Report): Promise<number> {
  const failures = readFailures();
  let selected: Failure[];
  if (target === undefined) {
    selected = failures;
  } else {
    const { device, link } = resolveFailTarget(topology, target);
    const name = device?.name ?? link!.id;
    selected = failures.filter((f) => f.target === name);
    if (selected.length === 0) {
      report(`${name} has not failed; failed now: ${failures.map((f) => `${f.target} (${f.mode})`).join(', ') || 'nothing'}`);
      return 0;
    }
  }
  for (const failure of selected) {
    if (failure.mode === 'link') {
      for (const end of failure.interfaces ?? []) {
        const [device, iface] = end.split(':') as [string, string];
        await must(['ip', '-n', device, 'link', 'set', iface, 'up'], `Setting ${end} up`);
      }
      report(`${failure.target}: ${(failure.interfaces ?? []).join(', ')} up`);
    } else {
      const device = findDevice(topology, failure.target);
      if (failure.mode === 'stop') {
        if (device.kind === 'node') await startBird(device);
        else await startFrr(device);
        const services = await startServices(sandbox, topology, [device.name]);
        report(`${device.name}: ${device.kind === 'node' ? 'BIRD' : 'FRR'} started${services.length ? `, ${services.length} services` : ''}`);
      } else {
        await must(['ip', 'netns', 'exec', device.name, 'sh', '-c', `nft delete table netdev ${SILENT_TABLE}; nft delete table inet ${SILENT_TABLE}; nft delete table arp ${SILENT_TABLE}`], `Un-silencing ${device.name}`);
        signal(daemonPids(device), 'SIGCONT');
        await signalServices(sandbox, topology, device.name, 'SIGCONT');
        report(`${device.name}: answering again, daemons running`);
      }
    }
    writeFailures(readFailures().filter((f) => f.target !== failure.target));
  }
  return selected.length;
}

// ---------------------------------------------------------------------------------------------
// Observing.

export interface BgpSession {
  device: string;
  /** Interface (unnumbered), peer address (dynamic neighbour / BIRD peer). */
  peer: string;
  state: string;
  /** Fabric: between two switches. Node: between a leaf and a node. */
  kind: 'fabric' | 'node';
}

type FrrPeers = Record<string, { state?: string; dynamicPeer?: boolean }>;
/** `show bgp ipv4 unicast summary json` gives the AFI object; `show bgp summary json` wraps it. */
interface FrrSummary {
  peers?: FrrPeers;
  ipv4Unicast?: { peers?: FrrPeers };
}

/** BGP sessions as FRR and BIRD report them, for the devices that are up. */
export async function bgpSessions(topology: Topology): Promise<BgpSession[]> {
  const present = existingNetns();
  // A silent device's daemons are frozen: asking them would only time out.
  const frozen = new Set(readFailures().filter((f) => f.mode === 'silent').map((f) => f.target));
  const all = await Promise.all(
    topology.devices.filter((d) => present.has(d.name) && !frozen.has(d.name)).map(async (device): Promise<BgpSession[]> => {
      if (device.kind === 'node') {
        if (birdPid(device.name) === undefined) return [];
        const result = await run(['birdc', '-s', birdSocketPath(device.name), 'show', 'protocols'], { timeoutMs: 2000 });
        if (result.code !== 0) return [];
        return result.stdout
          .split('\n')
          .map((line) => line.trim().split(/\s+/))
          .filter((cols) => cols[1] === 'BGP')
          .map((cols) => ({ device: device.name, peer: cols[0]!, state: cols[3] === 'up' ? (cols[5] ?? 'Established') : (cols.slice(5).join(' ') || cols[3]!), kind: 'node' as const }));
      }
      if (frrPids(device.name).get('bgpd') === undefined) return [];
      const result = await run(['vtysh', '-N', device.name, '-c', 'show bgp ipv4 unicast summary json'], { timeoutMs: 2000 });
      if (result.code !== 0) return [];
      let summary: FrrSummary;
      try {
        summary = JSON.parse(result.stdout) as FrrSummary;
      } catch {
        return []; // bgpd not configured yet (prints nothing or a notice instead of JSON)
      }
      return Object.entries(summary.peers ?? summary.ipv4Unicast?.peers ?? {}).map(([peer, info]) => ({
        device: device.name,
        peer,
        state: info.state ?? 'unknown',
        kind: device.ports.some((p) => p.iface === peer) ? ('fabric' as const) : ('node' as const),
      }));
    }),
  );
  return all.flat();
}

/** The leaf–spine sessions the topology defines, as device:iface, both ends. */
export function expectedFabricSessions(topology: Topology, present = existingNetns()): string[] {
  return topology.links
    .filter((link) => [link.a, link.b].every((end) => findDevice(topology, end.device).kind !== 'node' && present.has(end.device)))
    .flatMap((link) => [`${link.a.device}:${link.a.iface}`, `${link.b.device}:${link.b.iface}`]);
}

/** The leaf–node sessions the topology defines (both ends: the leaf's dynamic peer, BIRD's protocol). */
export function expectedNodeSessions(topology: Topology, present = existingNetns()): string[] {
  return topology.devices.flatMap((device) =>
    device.kind !== 'node' || !present.has(device.name)
      ? []
      : device.tors.filter((tor) => present.has(tor.leaf)).flatMap((tor) => [
          `${tor.leaf}:${device.ports.find((p) => p.iface === tor.iface)!.address!.address}`,
          `${device.name}:Node_${tor.gateway.replaceAll('.', '_')}`,
        ]),
  );
}

/** When a wait gives up (epoch ms), and its length for the message that says so. */
export type WaitBudget = { until: number; seconds: number };

export function waitBudget(seconds: number, from = Date.now()): WaitBudget {
  return { until: from + seconds * 1000, seconds };
}

/**
 * Polls until each node that is up runs the BIRD configuration the cluster gave it (not the
 * bootstrap one) and every BGP session in it is Established, whatever they are: the node-to-node
 * mesh of a fresh lab, or the TOR peers once the walkthrough's BGPPeers are in. That is the state a
 * learner's first command expects; the mesh comes up a few seconds after the fabric (calico-node's
 * first render, then BIRD's connect delay).
 */
export async function waitForNodesSettled(topology: Topology, budget: WaitBudget, onWaiting: (detail: string) => void = () => undefined): Promise<{ ms: number; established: number }> {
  const started = Date.now();
  const present = existingNetns();
  const nodeNames = topology.devices.filter((d) => d.kind === 'node' && present.has(d.name)).map((d) => d.name);
  for (;;) {
    const unrendered = nodeNames.filter((name) => {
      try {
        return readFileSync(birdConfigPath(name), 'utf8').startsWith(BOOTSTRAP_CONFIG_HEADER);
      } catch {
        return true; // not written yet
      }
    });
    const sessions = (await bgpSessions(topology)).filter((s) => s.kind === 'node' && nodeNames.includes(s.device));
    const waiting = [
      ...unrendered.map((name) => `${name}: bootstrap BIRD configuration`),
      ...nodeNames.filter((name) => !sessions.some((s) => s.device === name)).map((name) => `${name}: no BGP session`),
      ...sessions.filter((s) => s.state !== 'Established').map((s) => `${s.device}:${s.peer} ${s.state}`),
    ];
    if (waiting.length === 0) return { ms: Date.now() - started, established: sessions.length };
    if (Date.now() > budget.until) throw new FabricError(`Nodes not settled within the ${budget.seconds} s wait: ${waiting.join(', ')}`);
    const settled = nodeNames.filter((name) => !waiting.some((what) => what.startsWith(`${name}:`))).length;
    onWaiting(`${settled} of ${nodeNames.length} nodes with every BGP session Established`);
    await sleep(POLL_SESSIONS_MS);
  }
}

/**
 * Polls until every leaf–spine session of the devices that are up is Established, and with
 * `includeNodes` every leaf–node session as well.
 */
export async function waitForFabric(topology: Topology, budget: WaitBudget, includeNodes = false, onWaiting: (detail: string) => void = () => undefined): Promise<{ ms: number; established: number; expected: number }> {
  const started = Date.now();
  const expected = [...expectedFabricSessions(topology), ...(includeNodes ? expectedNodeSessions(topology) : [])];
  for (;;) {
    const sessions = await bgpSessions(topology);
    const established = new Set(sessions.filter((s) => s.state === 'Established').map((s) => `${s.device}:${s.peer}`));
    const missing = expected.filter((e) => !established.has(e));
    if (missing.length === 0) return { ms: Date.now() - started, established: expected.length, expected: expected.length };
    if (Date.now() > budget.until) {
      throw new FabricError(`Not Established within the ${budget.seconds} s wait: ${missing.join(', ')}`);
    }
    onWaiting(`${expected.length - missing.length} of ${expected.length} sessions Established`);
    await sleep(POLL_SESSIONS_MS);
  }
}
