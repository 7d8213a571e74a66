// The bootstrap BIRD 1.6 configuration of a node, generated from the normalised topology. It is
// what the node runs until calico-node renders the real one (lab/cluster/) into the same path
// (layout.birdConfigPath) and reloads BIRD. It peers with the node's TORs the way Calico's
// dual-TOR peering does (one `Node_<peer>` protocol per TOR, direct, gateway direct, BFD), exports
// only the node's pod block (a blackhole aggregate, as Calico's IPAM blocks are), and installs what
// it learns into the kernel as ECMP routes, so pods on different racks reach each other.

import { formatCidr } from './ipv4.ts';
import { birdLogPath } from './layout.ts';
import type { NodeDevice, Topology } from './topology.ts';

/** Calico's protocol name for a node-specific BGP peer: dots of the peer IP turned to underscores. */
export function nodePeerProtocolName(peerIp: string): string {
  return `Node_${peerIp.replaceAll('.', '_')}`;
}

/** The first words of the bootstrap configuration: a node whose config still starts so has not
 *  yet been given its own by the cluster (calico-node). */
export const BOOTSTRAP_CONFIG_HEADER = '# Bootstrap BIRD configuration of ';

export function renderBirdConfig(node: NodeDevice, topology: Topology): string {
  const pool = formatCidr(topology.podPool);
  const lines = [
    `${BOOTSTRAP_CONFIG_HEADER}${node.name}, generated from lab/topology.yaml.`,
    '# calico-node replaces it with the configuration it renders from the cluster resources.',
    `router id ${node.routerId};`,
    `log "${birdLogPath(node.name)}" all;`,
    '',
    '# Routes inside the IP pool only: the pod block, never the bootstrap static routes, and not',
    '# the per-pod /32 routes inside the block (the block covers them).',
    'filter export_pool {',
    `  if ( net ~ [ ${formatCidr(node.podBlock)}{${node.podBlock.length + 1},32} ] ) then reject;`,
    `  if ( net ~ ${pool} ) then accept;`,
    '  reject;',
    '}',
    '',
    '# Into the kernel: what BGP learned (the other racks\' pod blocks), as ECMP routes.',
    'filter kernel_export {',
    '  if ( source = RTS_BGP ) then accept;',
    '  reject;',
    '}',
    '',
    'protocol kernel {',
    '  learn;',
    '  persist;',
    '  scan time 2;',
    '  graceful restart;',
    '  merge paths on;',
    '  import all;',
    '  export filter kernel_export;',
    '}',
    '',
    'protocol device {',
    '  scan time 2;',
    '}',
    '',
    'protocol direct {',
    '  interface -"cali*", -"kube-ipvs*", "*";',
    '}',
    '',
    '# The IPAM block, exported as a blackhole aggregate as Calico does.',
    'protocol static pod_block {',
    `  route ${formatCidr(node.podBlock)} blackhole;`,
    '}',
    '',
    'protocol bfd {',
    ...node.tors.map((tor) => `  interface "${tor.iface}";`),
    '}',
    '',
    'template bgp tor {',
    `  local as ${node.asn};`,
    '  direct;',
    '  gateway direct;',
    '  bfd on;',
    '  import all;',
    '  export filter export_pool;',
    '  add paths on;',
    '  graceful restart;',
    '  connect delay time 2;',
    '  connect retry time 5;',
    '  error wait time 5,30;',
    '}',
    '',
    ...node.tors.flatMap((tor) => [
      `protocol bgp ${nodePeerProtocolName(tor.gateway)} from tor {`,
      `  description "${tor.leaf} via ${tor.iface}";`,
      `  neighbor ${tor.gateway} as ${node.asn};`,
      '}',
      '',
    ]),
  ];
  return `${lines.join('\n')}`;
}
