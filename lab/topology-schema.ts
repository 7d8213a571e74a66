// Validation and normalisation of lab/topology.yaml: the zod schema (the file's types), then one
// pass that resolves links into ports and derives what the generators need (listen ranges,
// bootstrap static routes, which leaf port faces which node). Loaded only when the topology cache
// (lab/topology.ts loadTopology) misses.

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { contains, formatCidr, networkOf, parseAddress, parseCidr, sameNetwork } from './ipv4.ts';
import {
  TopologyError,
  caliInterfaceName,
  parseEndpoint,
  podNetnsName,
  type Device,
  type Link,
  type NodeDevice,
  type Pod,
  type Port,
  type StaticRoute,
  type Topology,
} from './topology.ts';

const cidr = z.string().refine((text) => {
  try {
    parseCidr(text);
    return true;
  } catch {
    return false; // the refine message below carries the reason
  }
}, 'expected an IPv4 prefix a.b.c.d/len');
const address = z.string().refine((text) => {
  try {
    parseAddress(text);
    return true;
  } catch {
    return false;
  }
}, 'expected an IPv4 address a.b.c.d');
/** Device and interface names end up as Linux names: netns file names and interface names. */
const deviceName = z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'lower-case letters, digits and "-", starting with a letter');
const interfaceName = z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,14}$/, 'letters and digits, at most 15 characters');
const asn = z.number().int().min(1).max(4294967295);

const spineSchema = z.strictObject({
  kind: z.literal('spine'),
  hostname: z.string().describe('Switch hostname, as its prompt shows it (spine-sw1)'),
  asn,
  loopback: cidr.describe('Loopback /32 on lo, also the BGP router id'),
});
const leafSchema = z.strictObject({
  kind: z.literal('leaf'),
  hostname: z.string(),
  rack: z.string(),
  asn: asn.describe('Rack AS: the leaf and its rack nodes share it (iBGP to nodes)'),
  loopback: cidr.describe('Loopback /32 on lo, router id and BGP cluster-id'),
  vlan10: cidr.describe('Address of the VLAN10 bridge, the rack-facing subnet; its network is the BGP listen range'),
});
const nodeSchema = z.strictObject({
  kind: z.literal('node'),
  rack: z.string(),
  loopback: cidr.describe('Node address on lo: router id, kubelet node IP, Calico node address'),
  podBlock: cidr.describe("The node's Calico IPAM block (/26)"),
  addresses: z.record(interfaceName, cidr).describe('Address per fabric-facing interface (enp0s8, enp0s9)'),
});

export const topologySchema = z.strictObject({
  name: z.string(),
  podPool: cidr.describe('Calico IP pool: a node exports only routes inside it'),
  switchLoopbacks: cidr.describe('Aggregate of every switch loopback; nodes get a bootstrap route to it'),
  nodes: z.record(deviceName, z.discriminatedUnion('kind', [spineSchema, leafSchema, nodeSchema])),
  links: z
    .array(z.tuple([z.string(), z.string()]))
    .describe('Point-to-point links as ["leaf10:swp1", "spine1:swp1"]'),
  pods: z
    .array(
      z.strictObject({
        namespace: deviceName,
        name: z.string().regex(/^[a-z0-9][a-z0-9.-]{0,62}$/, 'a Kubernetes pod name'),
        node: deviceName,
        ip: address,
      }),
    )
    .default([]),
});

export type TopologyInput = z.input<typeof topologySchema>;
export type PodInput = z.infer<typeof topologySchema>['pods'][number];

/** Reads, validates and normalises a topology file. */
export function parseTopologyFile(path: string): Topology {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new TopologyError(`${path}: ${(error as Error).message}`);
  }
  return normaliseTopology(raw, path);
}

export function normaliseTopology(raw: unknown, where = 'topology'): Topology {
  const parsed = topologySchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new TopologyError(`${where} is not a valid topology:\n${lines.join('\n')}`);
  }
  const input = parsed.data;
  const fail = (message: string): never => {
    throw new TopologyError(`${where}: ${message}`);
  };
  const names = Object.keys(input.nodes);

  // Links: both endpoints exist, each interface is used once.
  const used = new Map<string, string>();
  const links: Link[] = input.links.map(([left, right], index) => {
    const a = parseEndpoint(left, `${where}: links[${index}]`);
    const b = parseEndpoint(right, `${where}: links[${index}]`);
    for (const end of [a, b]) {
      if (!input.nodes[end.device]) fail(`links[${index}]: unknown device "${end.device}"; devices: ${names.join(', ')}`);
      if (!/^[A-Za-z][A-Za-z0-9]{0,14}$/.test(end.iface)) fail(`links[${index}]: "${end.iface}" is not a valid interface name`);
      const key = `${end.device}:${end.iface}`;
      if (used.has(key)) fail(`links[${index}]: ${key} is already used by ${used.get(key)}`);
      used.set(key, `links[${index}]`);
    }
    if (a.device === b.device) fail(`links[${index}]: both ends are on ${a.device}`);
    return { id: `${left}--${right}`, a, b };
  });

  const portsOf = (device: string): Port[] =>
    links
      .flatMap((link) => [
        link.a.device === device ? { iface: link.a.iface, peer: link.b } : undefined,
        link.b.device === device ? { iface: link.b.iface, peer: link.a } : undefined,
      ])
      .filter((port): port is Port => port !== undefined)
      .sort((x, y) => x.iface.localeCompare(y.iface, 'en', { numeric: true }));

  const kindOf = (device: string) => input.nodes[device]!.kind;
  const switchLoopbacks = parseCidr(input.switchLoopbacks);

  const devices: Device[] = names.map((name): Device => {
    const spec = input.nodes[name]!;
    const loopback = parseCidr(spec.loopback);
    if (loopback.length !== 32) fail(`nodes.${name}.loopback: expected a /32, got ${spec.loopback}`);
    const ports = portsOf(name);
    const base = { name, loopback, routerId: loopback.address, ports };
    if (spec.kind === 'spine') {
      for (const port of ports) {
        if (kindOf(port.peer.device) !== 'leaf') fail(`${name}:${port.iface} connects to ${port.peer.device}; spines connect to leaves only`);
      }
      return { ...base, kind: 'spine', hostname: spec.hostname, asn: spec.asn, uplinks: ports.map((p) => p.iface) };
    }
    if (spec.kind === 'leaf') {
      const vlan10 = parseCidr(spec.vlan10);
      const uplinks = ports.filter((p) => kindOf(p.peer.device) === 'spine').map((p) => p.iface);
      const nodePorts = ports.filter((p) => kindOf(p.peer.device) === 'node');
      for (const port of ports) {
        if (kindOf(port.peer.device) === 'leaf') fail(`${name}:${port.iface} connects to leaf ${port.peer.device}; leaves do not link to each other`);
      }
      const staticRoutes = nodePorts.map((port): StaticRoute => {
        const node = input.nodes[port.peer.device]!;
        if (node.kind !== 'node') throw new Error('unreachable: nodePorts holds node peers only');
        const nodeAddress = node.addresses[port.peer.iface];
        if (!nodeAddress) fail(`nodes.${port.peer.device}.addresses has no ${port.peer.iface} (linked to ${name}:${port.iface})`);
        const parsedAddress = parseCidr(nodeAddress!);
        if (!sameNetwork(parsedAddress, vlan10)) {
          fail(`nodes.${port.peer.device}.addresses.${port.peer.iface} ${nodeAddress} is not in ${name}'s VLAN10 subnet ${formatCidr(networkOf(vlan10))}`);
        }
        return { prefix: node.loopback, via: [parsedAddress.address] };
      });
      return {
        ...base,
        kind: 'leaf',
        hostname: spec.hostname,
        asn: spec.asn,
        rack: spec.rack,
        vlan10,
        listenRange: formatCidr(networkOf(vlan10)),
        uplinks,
        nodePorts: nodePorts.map((p) => p.iface),
        staticRoutes,
      };
    }
    // A node: every port goes to a leaf of its own rack.
    const tors = ports.map((port) => {
      const leaf = input.nodes[port.peer.device]!;
      if (leaf.kind !== 'leaf') fail(`${name}:${port.iface} connects to ${port.peer.device}; nodes connect to leaves only`);
      if (leaf.kind === 'leaf' && leaf.rack !== spec.rack) fail(`${name} is in ${spec.rack} but ${name}:${port.iface} connects to ${port.peer.device} of ${leaf.kind === 'leaf' ? leaf.rack : '?'}`);
      return { leaf: port.peer.device, iface: port.iface, gateway: parseCidr((leaf as { vlan10: string }).vlan10).address };
    });
    if (tors.length === 0) fail(`node ${name} has no link to a leaf`);
    for (const iface of Object.keys(spec.addresses)) {
      if (!ports.some((p) => p.iface === iface)) fail(`nodes.${name}.addresses.${iface}: ${name} has no link on ${iface}`);
    }
    const rackLeaves = names.filter((n) => {
      const other = input.nodes[n]!;
      return other.kind === 'leaf' && other.rack === spec.rack;
    });
    const asns = new Set(rackLeaves.map((n) => (input.nodes[n] as { asn: number }).asn));
    if (asns.size !== 1) fail(`the leaves of ${spec.rack} (${rackLeaves.join(', ')}) must share one AS; found ${[...asns].join(', ')}`);
    return {
      ...base,
      kind: 'node',
      hostname: name,
      rack: spec.rack,
      asn: [...asns][0]!,
      podBlock: parseCidr(spec.podBlock),
      ports: ports.map((p) => ({ ...p, address: parseCidr(spec.addresses[p.iface] ?? fail(`nodes.${name}.addresses has no ${p.iface}`)) })),
      tors,
      staticRoutes: [],
    };
  });

  // Node bootstrap routes (§4): every rack subnet not directly connected, every other node's
  // loopback and the switch loopbacks, each as one ECMP route through all of the node's TORs.
  for (const node of devices) {
    if (node.kind !== 'node') continue;
    const gateways = node.tors.map((t) => t.gateway);
    const connected = node.ports.map((p) => formatCidr(networkOf(p.address!)));
    const prefixes: string[] = [];
    for (const device of devices) {
      if (device.kind === 'leaf') {
        const subnet = formatCidr(networkOf(device.vlan10));
        if (!connected.includes(subnet)) prefixes.push(subnet);
      }
    }
    for (const device of devices) {
      if (device.kind === 'node' && device.name !== node.name) prefixes.push(formatCidr(device.loopback));
    }
    prefixes.push(formatCidr(networkOf(switchLoopbacks)));
    node.staticRoutes = prefixes.map((prefix) => ({ prefix, via: gateways }));
  }
  for (const device of devices) {
    if (device.kind !== 'node' && !contains(networkOf(switchLoopbacks), device.loopback.address)) {
      fail(`nodes.${device.name}.loopback ${formatCidr(device.loopback)} is outside switchLoopbacks ${input.switchLoopbacks}`);
    }
  }

  const podPool = parseCidr(input.podPool);
  const seenIps = new Map<string, string>();
  const pods: Pod[] = input.pods.map((pod, index) => {
    const node = devices.find((d) => d.name === pod.node);
    if (!node || node.kind !== 'node') {
      fail(`pods[${index}] (${pod.namespace}/${pod.name}): unknown node "${pod.node}"; nodes: ${devices.filter((d) => d.kind === 'node').map((d) => d.name).join(', ')}`);
    }
    const block = (node as NodeDevice).podBlock;
    if (!contains(block, pod.ip)) fail(`pods[${index}] (${pod.namespace}/${pod.name}): ${pod.ip} is not in ${pod.node}'s block ${formatCidr(block)}`);
    const other = seenIps.get(pod.ip);
    if (other) fail(`pods[${index}] (${pod.namespace}/${pod.name}): ${pod.ip} is already used by ${other}`);
    seenIps.set(pod.ip, `${pod.namespace}/${pod.name}`);
    return { ...pod, netns: podNetnsName(pod.namespace, pod.name), hostIface: caliInterfaceName(pod.namespace, pod.name) };
  });
  for (const device of devices) {
    if (device.kind === 'node' && !contains(podPool, device.podBlock.address)) {
      fail(`nodes.${device.name}.podBlock ${formatCidr(device.podBlock)} is outside podPool ${input.podPool}`);
    }
  }

  return { name: input.name, podPool, switchLoopbacks, devices, links, pods };
}

