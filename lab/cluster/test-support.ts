// Test helpers for the cluster emulation: an API server on 127.0.0.1 with a seeded datastore and a
// controllable clock, the CLIs run in-process against it, real BIRD 1.6 daemons peering over
// loopback (for `calicoctl node status`), and the masks for the walkthrough's volatile fields.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServer } from './api-server.ts';
import { Calicoctl } from './calicoctl.ts';
import type { CliIO, ExecTarget } from './cli-io.ts';
import { ApiClient } from './client.ts';
import { Kubectl } from './kubectl.ts';
import { seedObjects } from './seed.ts';
import { Store } from './store.ts';
import { loadTopology, type Topology } from '../topology.ts';

/** When the walkthrough's lab "starts": the seed is an hour older than this. */
export const LAB_START = Date.parse('2026-11-26T16:14:50Z');

export interface TestCluster {
  server: ApiServer;
  client: ApiClient;
  clock: { now: number };
  topology: Topology;
  /** Every kubelet reports in (as the lab's kubelets do every second). */
  heartbeat(): void;
  close(): Promise<void>;
}

export async function startCluster(options: { file?: string; now?: number } = {}): Promise<TestCluster> {
  const topology = loadTopology();
  const clock = { now: options.now ?? LAB_START };
  const store = Store.open(options.file, () => seedObjects(clock.now, topology));
  const server = new ApiServer({ store, now: () => clock.now, log: () => {} });
  const address = await server.listen(0, '127.0.0.1');
  return {
    server,
    client: new ApiClient(`http://127.0.0.1:${address.port}`),
    clock,
    topology,
    heartbeat: () => {
      for (const node of ['k8s-master', 'k8s-worker-1']) server.heartbeat(node, '127.0.0.1');
    },
    close: () => server.close(),
  };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  stdin?: string;
  privileged?: boolean;
  birdSocket?: string;
  exec?: (target: ExecTarget, argv: string[]) => Promise<number>;
  files?: Record<string, string>;
}

function io(cluster: TestCluster, options: RunOptions, out: { stdout: string; stderr: string }): CliIO {
  return {
    client: cluster.client,
    stdout: (text) => (out.stdout += text),
    stderr: (text) => (out.stderr += text),
    readStdin: async () => options.stdin ?? '',
    readFile: async (path) => {
      const content = options.files?.[path];
      if (content === undefined) throw new Error(`ENOENT: ${path}`);
      return content;
    },
    env: {},
    now: () => cluster.clock.now,
    exec: options.exec,
    privileged: () => options.privileged ?? false,
    birdSocket: options.birdSocket,
  };
}

export async function kubectl(cluster: TestCluster, argv: string[], options: RunOptions = {}): Promise<CliRun> {
  const out = { stdout: '', stderr: '' };
  const code = await new Kubectl(io(cluster, options, out)).run(argv);
  return { code, ...out };
}

export async function calicoctl(cluster: TestCluster, argv: string[], options: RunOptions = {}): Promise<CliRun> {
  const out = { stdout: '', stderr: '' };
  const code = await new Calicoctl(io(cluster, options, out)).run(argv);
  return { code, ...out };
}

export function golden(name: string): string {
  return readFileSync(new URL(`./testdata/walkthrough/${name}`, import.meta.url), 'utf8');
}

// --- Masks ----------------------------------------------------------------------------------------

/** AGE cells (69m, 5s, 2d3h, ...). */
const AGE = /^(\d+[smhdy])+$|^<invalid>$/;
/** BIRD's SINCE column (time of day, or a date for older sessions). */
const SINCE = /^\d{2}:\d{2}:\d{2}$|^\d{4}-\d{2}-\d{2}$/;
/** Generated parts of pod names: ReplicaSet hash and pod suffix, or a DaemonSet pod's suffix. */
function maskName(cell: string): string {
  return cell
    .replace(/-[a-z0-9]{8,10}-[a-z0-9]{5}$/, '-<hash>-<id>')
    .replace(/^(calico-node|kube-proxy)-[a-z0-9]{5}$/, '$1-<id>');
}

export function maskCell(cell: string): string {
  if (AGE.test(cell)) return '<age>';
  if (SINCE.test(cell)) return '<since>';
  return maskName(cell);
}

/** Splits a kubectl/calicoctl table into cells (columns are separated by at least two spaces). */
export function cells(text: string): string[][] {
  return text.split('\n').filter((line) => line.trim() !== '').map((line) => line.trimEnd().split(/ {2,}/));
}

export function maskedTable(text: string): string[][] {
  return cells(text).map((row) => row.map(maskCell));
}

/**
 * Checks a space-aligned table's layout: every column starts at the same offset on every line,
 * at least `gap` spaces after the longest cell of the previous column.
 */
export function alignmentProblems(text: string, gap = 3): string[] {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const header = lines[0] ?? '';
  const starts: number[] = [0];
  for (const match of header.matchAll(/ {2,}(\S)/g)) starts.push(match.index! + match[0].length - 1);
  const problems: string[] = [];
  for (const line of lines) {
    for (let c = 1; c < starts.length; c++) {
      const start = starts[c]!;
      if (line.length > start && (line[start] === ' ' || line[start - 1] !== ' ')) problems.push(`column ${c} does not start at ${start}: ${JSON.stringify(line)}`);
      const before = line.slice(starts[c - 1]!, start);
      if (!before.endsWith(' '.repeat(gap))) problems.push(`fewer than ${gap} spaces before column ${c}: ${JSON.stringify(line)}`);
    }
  }
  return problems;
}

/** The lines of a box table (calicoctl node status) with SINCE masked. */
export function maskBoxTable(text: string): string {
  return text.replace(/\| (\d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}) \|/g, '| <since>  |');
}

// --- Real BIRD on loopback --------------------------------------------------------------------------

export interface BirdPair {
  /** The control socket of the first BIRD (the "node" calicoctl asks). */
  socket: string;
  dir: string;
  stop(): Promise<void>;
}

/** Waits until a daemon's pid file holds a pid (it exists a moment before it is written). */
function waitForPid(path: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const poll = () => {
      let pid = 0;
      try {
        pid = Number(readFileSync(path, 'utf8').trim());
      } catch {
        pid = 0; // not written yet
      }
      if (Number.isInteger(pid) && pid > 0) resolve(pid);
      else if (Date.now() > deadline) reject(new Error(`${path} held no pid within ${timeoutMs} ms`));
      else setTimeout(poll, 20);
    };
    poll();
  });
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false; // gone
  }
}

/**
 * Two BIRD 1.6 daemons that peer with each other over 127.0.0.1/127.0.0.2 only (no kernel
 * protocol: nothing touches the host's routes), the first with BGP protocols named as Calico names
 * them, so `show protocols` reads like a node's. Returns once both are running.
 */
export async function startBirdPair(protocolNames: string[], port: number): Promise<BirdPair> {
  const dir = mkdtempSync(join(tmpdir(), 'cluster-bird-'));
  // The first daemon opens one session per protocol, each between its own pair of loopback
  // addresses (BIRD locks a neighbor address per protocol); one passive daemon answers each.
  const local = (i: number) => `127.0.0.${1 + 2 * i}`;
  const remote = (i: number) => `127.0.0.${2 + 2 * i}`;
  const configs: Array<[string, string[]]> = protocolNames.map((_, i) => [`peer${i}`, [
    `router id 192.168.201.${1 + i};`,
    `listen bgp address ${remote(i)} port ${port};`,
    `protocol bgp answer { local ${remote(i)} as 65101; neighbor ${local(i)} as 65101; multihop; passive on; import all; export none; }`,
  ]]);
  configs.push(['a', [
    'router id 192.168.200.1;',
    `listen bgp address 127.0.0.1 port ${port + 1};`,
    'protocol device { scan time 2; }',
    ...protocolNames.map((name, i) =>
      `protocol bgp ${name} { local ${local(i)} as 65101; neighbor ${remote(i)} port ${port} as 65101; multihop; connect retry time 1; connect delay time 1; import all; export none; }`),
  ]]);
  const pids: number[] = [];
  const stop = async () => {
    for (const pid of pids) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      const deadline = Date.now() + 3_000;
    for (const pid of pids) {
        while (Date.now() < deadline && alive(pid)) await new Promise((r) => setTimeout(r, 20));
        if (alive(pid)) process.kill(pid, 'SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const [name, lines] of configs) {
      writeFileSync(join(dir, `${name}.conf`), `${lines.join('\n')}\n`);
      const child = spawn('bird', ['-c', join(dir, `${name}.conf`), '-s', join(dir, `${name}.ctl`), '-P', join(dir, `${name}.pid`)], { stdio: 'ignore' });
      await new Promise<void>((resolve, reject) => {
        child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`bird ${name} exited with ${code} (config ${join(dir, `${name}.conf`)})`))));
        child.once('error', reject);
      });
      pids.push(await waitForPid(join(dir, `${name}.pid`), 5_000));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { socket: join(dir, 'a.ctl'), dir, stop };
}
