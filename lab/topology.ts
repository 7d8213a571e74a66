// The lab's topology: `lab/topology.yaml` (data), validated and normalised once by
// lab/topology-schema.ts into the shape defined here, which every generator and the fabric builder
// use (containerlab style: nodes + links with "device:interface" endpoints). This module holds the
// normalised types, the loader (with a cache, so a `lab` call does not pay for YAML and zod) and the
// look-ups.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cidr } from './ipv4.ts';

const require = createRequire(import.meta.url);

export const DEFAULT_TOPOLOGY_PATH = fileURLToPath(new URL('./topology.yaml', import.meta.url));

// ---------------------------------------------------------------------------------------------
// The normalised shape.

export interface Endpoint {
  device: string;
  iface: string;
}

export interface Link {
  /** `leaf10:swp1--spine1:swp1`, the name `lab fail`/`lab status` use. */
  id: string;
  a: Endpoint;
  b: Endpoint;
}

export interface StaticRoute {
  prefix: string;
  /** One gateway, or several for an ECMP route. */
  via: string[];
}

interface DeviceBase {
  name: string;
  hostname: string;
  loopback: Cidr;
  routerId: string;
  /** Fabric interfaces in name order (veths), without lo and bridges. */
  ports: Port[];
}

export interface Port {
  iface: string;
  peer: Endpoint;
  /** Address on the interface itself (nodes only; switch ports are unnumbered or bridged). */
  address?: Cidr;
}

export interface Spine extends DeviceBase {
  kind: 'spine';
  asn: number;
  /** Ports that peer over BGP unnumbered (to leaves). */
  uplinks: string[];
}

export interface Leaf extends DeviceBase {
  kind: 'leaf';
  asn: number;
  rack: string;
  vlan10: Cidr;
  /** The rack-facing subnet, used as the K8S-NODES listen range. */
  listenRange: string;
  /** Ports to spines: BGP unnumbered. */
  uplinks: string[];
  /** Ports to nodes: members of the VLAN10 bridge. */
  nodePorts: string[];
  /** Bootstrap routes to the loopbacks of the nodes behind this leaf. */
  staticRoutes: StaticRoute[];
}

export interface NodeDevice extends DeviceBase {
  kind: 'node';
  rack: string;
  /** The rack's AS (its leaves'), the node's AS once racks are labelled. */
  asn: number;
  podBlock: Cidr;
  /** The TOR gateways: one per fabric port, the leaf's VLAN10 address. */
  tors: { leaf: string; iface: string; gateway: string }[];
  /** Bootstrap ECMP routes to other racks' subnets, other node loopbacks, switch loopbacks. */
  staticRoutes: StaticRoute[];
}

export type Device = Spine | Leaf | NodeDevice;
export type Switch = Spine | Leaf;

export interface Pod {
  namespace: string;
  name: string;
  node: string;
  ip: string;
  /** Network namespace name inside the sandbox. */
  netns: string;
  /** The host-side veth on the node, named as Calico names it. */
  hostIface: string;
}

export interface Topology {
  name: string;
  podPool: Cidr;
  switchLoopbacks: Cidr;
  /** In file order. */
  devices: Device[];
  links: Link[];
  pods: Pod[];
}

export class TopologyError extends Error {
  override name = 'TopologyError';
}

/** Calico's host-side veth name for a workload: "cali" + 11 hex digits of sha1("namespace.pod"). */
export function caliInterfaceName(namespace: string, pod: string): string {
  return `cali${createHash('sha1').update(`${namespace}.${pod}`).digest('hex').slice(0, 11)}`;
}

export function podNetnsName(namespace: string, pod: string): string {
  return `${namespace}.${pod}`;
}

export function parseEndpoint(text: string, where: string): Endpoint {
  const match = /^([^:]+):([^:]+)$/.exec(text);
  if (!match) throw new TopologyError(`${where}: endpoint "${text}" is not "device:interface"`);
  return { device: match[1]!, iface: match[2]! };
}

/** Where the normalised topology is cached: parsing YAML and zod cost ~100 ms a `lab` call. */
function cachePath(path: string): string {
  const uid = process.getuid?.() ?? 0;
  return join(tmpdir(), `dual-tor-lab-${uid}`, `topology-${createHash('sha1').update(path).digest('hex').slice(0, 16)}.json`);
}

interface CacheEntry {
  mtimeMs: number;
  size: number;
  topology: Topology;
}

/**
 * The normalised topology of a YAML file (lab/topology.yaml by default). Served from a per-user
 * cache keyed by the file's mtime and size; on a miss the file is parsed, validated and normalised
 * (lab/topology-schema.ts) and the cache written.
 */
export function loadTopology(path: string = DEFAULT_TOPOLOGY_PATH): Topology {
  let stat;
  try {
    stat = statSync(path);
  } catch (error) {
    throw new TopologyError(`${path}: ${(error as Error).message}`);
  }
  const cache = cachePath(path);
  try {
    const cacheStat = statSync(cache);
    if (cacheStat.uid === (process.getuid?.() ?? 0)) {
      const entry = JSON.parse(readFileSync(cache, 'utf8')) as CacheEntry;
      if (entry.mtimeMs === stat.mtimeMs && entry.size === stat.size) return entry.topology;
    }
  } catch {
    // no cache, or an unreadable one: parse the file below
  }
  const schema = require('./topology-schema.ts') as typeof import('./topology-schema.ts');
  const topology = schema.parseTopologyFile(path);
  try {
    mkdirSync(dirname(cache), { recursive: true, mode: 0o700 });
    const temporary = `${cache}.${process.pid}`;
    writeFileSync(temporary, JSON.stringify({ mtimeMs: stat.mtimeMs, size: stat.size, topology } satisfies CacheEntry));
    renameSync(temporary, cache);
  } catch {
    // a cache that cannot be written only costs time
  }
  return topology;
}

// ---------------------------------------------------------------------------------------------
// Look-ups with errors that list what is valid.

export function findDevice(topology: Topology, name: string): Device {
  const device = topology.devices.find((d) => d.name === name);
  if (!device) {
    throw new TopologyError(`Unknown device "${name}"; devices: ${topology.devices.map((d) => d.name).join(', ')}`);
  }
  return device;
}

export function switches(topology: Topology): Switch[] {
  return topology.devices.filter((d): d is Switch => d.kind !== 'node');
}

export function nodes(topology: Topology): NodeDevice[] {
  return topology.devices.filter((d): d is NodeDevice => d.kind === 'node');
}

/** Finds a link by id (`a:x--b:y`, either order) or by one endpoint (`leaf10:swp1`). */
export function findLink(topology: Topology, text: string): Link | undefined {
  const ends = text.split('--');
  return topology.links.find((link) => {
    const names = [`${link.a.device}:${link.a.iface}`, `${link.b.device}:${link.b.iface}`];
    if (ends.length === 1) return names.includes(text);
    return ends.length === 2 && names.includes(ends[0]!) && names.includes(ends[1]!) && ends[0] !== ends[1];
  });
}

/** Finds a pod by `namespace/name` or by a name that is unique across namespaces. */
export function findPod(pods: Pod[], text: string): Pod | undefined {
  const slash = text.indexOf('/');
  if (slash >= 0) return pods.find((p) => p.namespace === text.slice(0, slash) && p.name === text.slice(slash + 1));
  const matches = pods.filter((p) => p.name === text);
  return matches.length === 1 ? matches[0] : undefined;
}
