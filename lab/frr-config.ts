// FRR integrated configuration (frr.conf) of a switch, generated from the normalised topology.
// Leaves and spines as in lab-facts §3 (derived from the original lab's NCLU): BGP unnumbered to the
// spines, the K8S-NODES peer group with a listen range to the rack's nodes, the route maps and the
// bootstrap static routes. Interface addresses are not here: as on Cumulus (ifupdown2), the fabric
// builder puts them on the interfaces.

import { formatCidr } from './ipv4.ts';
import type { Leaf, Spine, Switch } from './topology.ts';

/** The FRR release the configs are written for (Debian 12's frr package). */
export const FRR_VERSION = '8.4.4';
/** The peer group of the rack's Kubernetes nodes, as the original names it. */
export const NODE_PEER_GROUP = 'K8S-NODES';

function header(device: Switch): string[] {
  return [
    `frr version ${FRR_VERSION}`,
    'frr defaults datacenter',
    `hostname ${device.hostname}`,
    'service integrated-vtysh-config',
    '!',
  ];
}

/** Unnumbered ports: zebra must send router advertisements so the peer learns our link-local address. */
function unnumberedInterfaces(ports: string[]): string[] {
  return ports.flatMap((port) => [`interface ${port}`, ' ipv6 nd ra-interval 10', ' no ipv6 nd suppress-ra', 'exit', '!']);
}

function uplinkNeighbors(ports: string[]): string[] {
  return ports.flatMap((port) => [
    ` neighbor ${port} interface remote-as external`,
    ` neighbor ${port} bfd`,
    ` neighbor ${port} capability extended-nexthop`,
  ]);
}

function footer(): string[] {
  return ['line vty', 'exit', '!', 'end'];
}

export function renderLeafConfig(leaf: Leaf): string {
  const lines = [
    ...header(leaf),
    ...leaf.staticRoutes.map((route) => `ip route ${route.prefix} ${route.via[0]}`),
    ...(leaf.staticRoutes.length > 0 ? ['!'] : []),
    ...unnumberedInterfaces(leaf.uplinks),
    `router bgp ${leaf.asn}`,
    ` bgp router-id ${leaf.routerId}`,
    ' bgp bestpath as-path multipath-relax',
    ' bgp bestpath compare-routerid',
    ` bgp cluster-id ${leaf.loopback.address}`,
    ` neighbor ${NODE_PEER_GROUP} peer-group`,
    ` neighbor ${NODE_PEER_GROUP} remote-as ${leaf.asn}`,
    ` neighbor ${NODE_PEER_GROUP} bfd`,
    ` bgp listen range ${leaf.listenRange} peer-group ${NODE_PEER_GROUP}`,
    ...uplinkNeighbors(leaf.uplinks),
    ' !',
    ' address-family ipv4 unicast',
    '  redistribute connected route-map CONNECTED_TO_BGP',
    '  redistribute static route-map STATIC_NODE_LOOPBACK',
    `  neighbor ${NODE_PEER_GROUP} activate`,
    `  neighbor ${NODE_PEER_GROUP} route-reflector-client`,
    `  neighbor ${NODE_PEER_GROUP} next-hop-self`,
    `  neighbor ${NODE_PEER_GROUP} soft-reconfiguration inbound`,
    ...leaf.uplinks.map((port) => `  neighbor ${port} soft-reconfiguration inbound`),
    ' exit-address-family',
    'exit',
    '!',
    'route-map CONNECTED_TO_BGP permit 10',
    ' match interface lo',
    'exit',
    '!',
    'route-map CONNECTED_TO_BGP permit 20',
    ' match interface VLAN10',
    'exit',
    '!',
    'route-map CONNECTED_TO_BGP deny 100',
    'exit',
    '!',
    'route-map STATIC_NODE_LOOPBACK permit 10',
    'exit',
    '!',
    ...footer(),
  ];
  return `${lines.join('\n')}\n`;
}

export function renderSpineConfig(spine: Spine): string {
  const lines = [
    ...header(spine),
    ...unnumberedInterfaces(spine.uplinks),
    `router bgp ${spine.asn}`,
    ` bgp router-id ${spine.routerId}`,
    ' bgp bestpath as-path multipath-relax',
    ...uplinkNeighbors(spine.uplinks),
    ' !',
    ' address-family ipv4 unicast',
    '  redistribute connected route-map CONNECTED_TO_BGP',
    ...spine.uplinks.map((port) => `  neighbor ${port} soft-reconfiguration inbound`),
    ' exit-address-family',
    'exit',
    '!',
    'route-map CONNECTED_TO_BGP permit 10',
    ' match interface lo',
    'exit',
    '!',
    'route-map CONNECTED_TO_BGP deny 100',
    'exit',
    '!',
    ...footer(),
  ];
  return `${lines.join('\n')}\n`;
}

export function renderFrrConfig(device: Switch): string {
  return device.kind === 'leaf' ? renderLeafConfig(device) : renderSpineConfig(device);
}

/** vtysh.conf of a switch: one integrated config file, as Cumulus runs FRR. */
export function renderVtyshConfig(device: Switch): string {
  return `service integrated-vtysh-config\nhostname ${device.hostname}\n`;
}

/** The loopback, as `ip addr` should hold it (used by the fabric builder and status). */
export function loopbackCidr(device: Switch): string {
  return formatCidr(device.loopback);
}
