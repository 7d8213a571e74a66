// What `lab status` reports, gathered in one place (runs inside the sandbox): devices with their
// state, rack and (for Kubernetes nodes) readiness, links with each end's state, BGP sessions with
// the device at the other end, failures and services. `lab status --json --watch` prints it again,
// one JSON line, whenever it changes, from one long-running process: a page showing the lab live
// costs one process per lab instead of a `lab` start-up per look.

import { existsSync } from 'node:fs';
import { bgpSessions, birdPid, existingNetns, frrPids, readFailures, type BgpSession } from './fabric.ts';
import { execInDevice, run } from './layout.ts';
import { listServices } from './services.ts';
import type { Device, Topology } from './topology.ts';

/**
 * `--watch` looks at the lab this often. A link cut or a session drop shows within about this
 * long plus one look (≈0.1 s), quick enough to watch failover as it happens (BFD takes 0.9 s).
 */
export const WATCH_INTERVAL_MS = 1000;
/**
 * Asking the routing daemons (one vtysh per switch, ~25 ms of CPU each, and birdc) is most of a
 * look's cost. While the lab is quiet they are asked only this often; the cheap part of a look
 * (links, failures, daemons, readiness: `ip` and file reads) still runs every WATCH_INTERVAL_MS.
 */
export const QUIET_SESSIONS_INTERVAL_MS = 3000;
/**
 * After anything changed (a link, a failure injected or restored, a session), the daemons are
 * asked at every look for this long: failover and recovery play out over seconds (BFD 0.9 s, BGP
 * hold 9 s, reconnects), and that is when the learner is watching.
 */
export const BUSY_PERIOD_MS = 15_000;
/**
 * A line (empty: readers skip it) is written at least this often, so a watch whose reader has
 * gone finds out from the failed write (EPIPE) even when nothing changes.
 */
export const KEEPALIVE_MS = 5000;
/**
 * Node readiness is asked from the API server less often: a node turns NotReady only after a 10 s
 * grace period (lab/cluster/api-server.ts), so a look every 3 s shows it soon enough.
 */
export const READINESS_INTERVAL_MS = 3000;
/** An API server that has not answered by then (frozen by a silent failure) means "unknown". */
const READINESS_TIMEOUT_MS = 2000;
/**
 * How the API server is asked: one HTTP/1.0 GET from the API server's node with bash's /dev/tcp,
 * which costs a few milliseconds where a kubectl start-up costs about 0.4 s of CPU (per look, per
 * learner watching). Arguments: host, port, path.
 */
const HTTP_GET = 'exec 3<>"/dev/tcp/$1/$2" && printf "GET %s HTTP/1.0\\r\\nHost: %s\\r\\n\\r\\n" "$3" "$1" >&3 && cat <&3';
const CLUSTER_SERVICES_MODULE = new URL('./cluster/services.ts', import.meta.url);
const CLUSTER_API_MODULE = new URL('./cluster/api.ts', import.meta.url);

export interface StatusSession extends BgpSession {
  /** The device at the other end, when the peer is an interface, an address or a BIRD protocol of a known device. */
  peerDevice: string | null;
}

export interface StatusReport {
  sandbox: string;
  devices: {
    name: string;
    kind: Device['kind'];
    hostname: string;
    /** The rack of a leaf or a node; absent for spines. */
    rack?: string;
    state: string;
    /** Kubernetes nodes: the Node's Ready condition; null when unknown (no API server, no answer). */
    ready?: boolean | null;
    daemons: { name: string; running: boolean }[];
    pods: { pod: string; ip: string; present: boolean }[];
  }[];
  links: { id: string; a: string; b: string; failed: boolean }[];
  sessions: StatusSession[];
  failures: ReturnType<typeof readFailures>;
  services: Awaited<ReturnType<typeof listServices>>;
}

/** An IPv4 address written in a BIRD protocol name, as calico-node names them: `Node_10_50_1_1`, `Mesh_192_168_201_1`. */
const PROTOCOL_ADDRESS = /_(\d+)_(\d+)_(\d+)_(\d+)$/;

/** The device a session's peer belongs to: a linked interface, an address of a device, or the address in a BIRD protocol name. */
export function peerDevice(topology: Topology, session: BgpSession): string | null {
  const device = topology.devices.find((d) => d.name === session.device);
  if (!device) return null;
  const port = device.ports.find((p) => p.iface === session.peer);
  if (port) return port.peer.device;
  const match = PROTOCOL_ADDRESS.exec(session.peer);
  const address = match ? match.slice(1).join('.') : session.peer;
  const owner = topology.devices.find(
    (d) =>
      d.name !== device.name &&
      (d.loopback.address === address || ('vlan10' in d && (d as { vlan10?: { address: string } }).vlan10?.address === address) || d.ports.some((p) => p.address?.address === address)),
  );
  return owner?.name ?? null;
}

/** Each node's Ready condition as the API server says it, or null for every node when it cannot be asked. */
export async function nodeReadiness(sandbox: string, topology: Topology): Promise<Map<string, boolean | null>> {
  const nodes = topology.devices.filter((d) => d.kind === 'node');
  const unknown = new Map(nodes.map((n) => [n.name, null as boolean | null]));
  // The cluster emulation is optional (lab/services.ts loads it the same way); without it, or
  // without its services running (--fabric-only), there is no API server to ask.
  if (!existsSync(CLUSTER_SERVICES_MODULE)) return unknown;
  const cluster = (await import(CLUSTER_SERVICES_MODULE.href)) as { apiServerNode?: (topology: Topology) => string };
  const api = (await import(CLUSTER_API_MODULE.href)) as { DEFAULT_API_URL?: string; API_PREFIX?: string };
  const apiNode = cluster.apiServerNode?.(topology);
  if (!api.DEFAULT_API_URL || api.API_PREFIX === undefined) return unknown;
  const url = new URL(api.DEFAULT_API_URL);
  if (!apiNode || !existingNetns().has(apiNode)) return unknown;
  if (!(await listServices(topology)).some((s) => s.device === apiNode && s.pid !== undefined)) return unknown;
  if (readFailures().some((f) => f.target === apiNode && f.mode !== 'link')) return unknown; // stopped or frozen: nobody answers
  const get = ['bash', '-c', HTTP_GET, 'http-get', url.hostname, url.port || '80', `${api.API_PREFIX}/nodes`];
  const result = await execInDevice(sandbox, topology, apiNode, get, { timeoutMs: READINESS_TIMEOUT_MS }).catch(() => undefined);
  if (!result || result.code !== 0) return unknown;
  const body = result.stdout.slice(result.stdout.indexOf('\r\n\r\n') + 4);
  try {
    const list = JSON.parse(body) as { items?: { metadata?: { name?: string }; status?: { conditions?: { type?: string; status?: string }[] } }[] };
    for (const item of list.items ?? []) {
      const name = item.metadata?.name;
      if (name === undefined || !unknown.has(name)) continue;
      const ready = item.status?.conditions?.find((c) => c.type === 'Ready');
      unknown.set(name, ready ? ready.status === 'True' : null);
    }
  } catch {
    // Not JSON (an error page, a cut-off answer): readiness stays unknown, which is what the report says.
  }
  return unknown;
}

/**
 * The topology whose switches must be asked for BGP sessions. Every spine session is with a leaf,
 * so while every leaf answers, the leaves' side of those sessions is enough and the spines are not
 * asked (each ask is a vtysh: ~25 ms of CPU). A leaf that cannot answer (absent, failed, bgpd not
 * running) has its sessions reported by the spines, so then they are asked too.
 */
function sessionSources(topology: Topology, present: Set<string>, failures: ReturnType<typeof readFailures>): Topology {
  const leaves = topology.devices.filter((d) => d.kind === 'leaf');
  const leavesAnswer = leaves.every((l) => present.has(l.name) && !failures.some((f) => f.target === l.name) && frrPids(l.name).get('bgpd') !== undefined);
  return leavesAnswer ? { ...topology, devices: topology.devices.filter((d) => d.kind !== 'spine') } : topology;
}

/** What each device answered last, for askSessions. */
const lastAnswers = new Map<string, BgpSession[]>();

/**
 * The sessions of a watch's look, asked device by device. A device whose routing daemon runs, is
 * not failed, and answered with sessions before but now with none did not answer (a vtysh or
 * birdc timing out on a loaded machine: configured neighbours are always listed, even Idle); its
 * previous answer is kept rather than its sessions vanishing from the view for a look.
 */
async function askSessions(topology: Topology, failures: ReturnType<typeof readFailures>): Promise<BgpSession[]> {
  const answers = await Promise.all(
    topology.devices.map(async (device) => {
      const answer = await bgpSessions({ ...topology, devices: [device] });
      const running = device.kind === 'node' ? birdPid(device.name) !== undefined : frrPids(device.name).get('bgpd') !== undefined;
      const previous = lastAnswers.get(device.name);
      if (answer.length === 0 && previous?.length && running && !failures.some((f) => f.target === device.name)) return previous;
      lastAnswers.set(device.name, answer);
      return answer;
    }),
  );
  return answers.flat();
}

/**
 * Everything `lab status` shows. A watch passes `readiness` (it asks for it less often) and
 * `cheap` (spines' sessions only when some leaf cannot report its own; see sessionSources).
 */
export async function collectStatus(
  sandbox: string,
  topology: Topology,
  readiness?: Map<string, boolean | null>,
  cheap = false,
  /** Sessions from an earlier look, reused instead of asking the daemons again. */
  knownSessions?: BgpSession[],
): Promise<StatusReport> {
  const present = existingNetns();
  const failures = readFailures();
  const [sessions, services, linkStates, ready] = await Promise.all([
    knownSessions ?? (cheap ? askSessions(sessionSources(topology, present, failures), failures) : bgpSessions(topology)),
    listServices(topology),
    Promise.all(
      topology.devices.filter((d) => present.has(d.name)).map(async (d) => {
        const result = await run(['ip', '-n', d.name, '-j', 'link', 'show']);
        const links = result.code === 0 ? (JSON.parse(result.stdout) as { ifname: string; operstate: string; flags: string[] }[]) : [];
        return [d.name, new Map(links.map((l) => [l.ifname, l.flags.includes('UP') ? (l.flags.includes('LOWER_UP') ? 'up' : 'no-carrier') : 'down']))] as const;
      }),
    ),
    readiness ?? nodeReadiness(sandbox, topology),
  ]);
  const linkState = new Map(linkStates);
  const devices = topology.devices.map((d) => {
    const daemons = d.kind === 'node' ? { bird: birdPid(d.name) } : Object.fromEntries(frrPids(d.name));
    const failure = failures.find((f) => f.target === d.name);
    return {
      name: d.name,
      kind: d.kind,
      hostname: d.hostname,
      ...(d.kind === 'spine' ? {} : { rack: d.rack }),
      state: !present.has(d.name) ? 'not created' : failure ? `failed (${failure.mode})` : 'up',
      ...(d.kind === 'node' ? { ready: ready.get(d.name) ?? null } : {}),
      daemons: Object.entries(daemons).map(([name, pid]) => ({ name, running: pid !== undefined })),
      pods: d.kind === 'node' ? topology.pods.filter((p) => p.node === d.name).map((p) => ({ pod: `${p.namespace}/${p.name}`, ip: p.ip, present: present.has(p.netns) })) : [],
    };
  });
  const links = topology.links.map((link) => ({
    id: link.id,
    a: linkState.get(link.a.device)?.get(link.a.iface) ?? 'absent',
    b: linkState.get(link.b.device)?.get(link.b.iface) ?? 'absent',
    failed: failures.some((f) => f.target === link.id),
  }));
  return {
    sandbox,
    devices,
    links,
    sessions: sessions.map((s) => ({ ...s, peerDevice: peerDevice(topology, s) })),
    failures,
    services,
  };
}

/**
 * `lab status --json --watch`: one compact JSON line now and one each time the report changes,
 * looking every WATCH_INTERVAL_MS, until stdout closes or the process is ended. Never returns
 * normally while the reader is there.
 */
export async function watchStatus(sandbox: string, topology: Topology, write: (line: string) => boolean | void): Promise<number> {
  let last = '';
  let lastCheap = '';
  let writtenAt = Date.now();
  let readiness: Map<string, boolean | null> | undefined;
  let readinessAt = -Infinity;
  let sessions: BgpSession[] | undefined;
  let sessionsAt = -Infinity;
  let busyUntil = 0;
  let closed = false;
  process.stdout.on('error', () => {
    closed = true; // EPIPE: the reader went away, which is how a watch normally ends
  });
  // Entered through nsenter by a `lab` on the host: when that goes, this process is re-parented,
  // and stops rather than look at the lab for nobody.
  const parent = process.ppid;
  while (!closed && process.ppid === parent) {
    const started = Date.now();
    if (started - readinessAt >= READINESS_INTERVAL_MS) {
      readiness = await nodeReadiness(sandbox, topology);
      readinessAt = Date.now();
    }
    // The cheap part first (the sessions of the last look reused): if it changed, the daemons are
    // asked now rather than at the next quiet interval.
    const cheap = sessions ? await collectStatus(sandbox, topology, readiness, true, sessions) : undefined;
    const cheapLine = cheap ? JSON.stringify({ ...cheap, sessions: [] }) : '';
    if (cheapLine !== lastCheap) busyUntil = started + BUSY_PERIOD_MS;
    let report = cheap;
    if (!report || started < busyUntil || started - sessionsAt >= QUIET_SESSIONS_INTERVAL_MS) {
      report = await collectStatus(sandbox, topology, readiness, true);
      sessions = report.sessions;
      sessionsAt = started;
    }
    lastCheap = JSON.stringify({ ...report, sessions: [] });
    const line = JSON.stringify(report);
    if (line !== last) {
      if (last) busyUntil = started + BUSY_PERIOD_MS;
      last = line;
      write(line);
      writtenAt = Date.now();
    } else if (Date.now() - writtenAt >= KEEPALIVE_MS) {
      write('');
      writtenAt = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, WATCH_INTERVAL_MS - (Date.now() - started))));
  }
  return 0;
}
