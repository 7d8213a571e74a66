// IPv4 arithmetic for pools, blocks and "directly connected" checks; IPv6 only as far as
// validation needs (the lab is IPv4, as the walkthrough's "No IPv6 peers found." says).

import { isIPv4, isIPv6 } from 'node:net';

export interface Cidr4 {
  /** Network address as an unsigned 32-bit integer. */
  readonly network: number;
  readonly prefix: number;
  /** The address as written (may have host bits set, e.g. a node's 192.168.200.1/32). */
  readonly address: number;
}

export function ipv4ToNumber(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

export function numberToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses "a.b.c.d/n" or a bare IPv4 address (as /32); undefined if neither. */
export function parseCidr4(text: string): Cidr4 | undefined {
  const [ip, prefixText, extra] = text.split('/');
  if (extra !== undefined || !ip || !isIPv4(ip)) return undefined;
  if (prefixText !== undefined && !/^\d{1,2}$/.test(prefixText)) return undefined;
  const prefix = prefixText === undefined ? 32 : Number(prefixText);
  if (prefix > 32) return undefined;
  const address = ipv4ToNumber(ip);
  return { network: (address & mask(prefix)) >>> 0, prefix, address };
}

/** Parses an IPv4 or IPv6 CIDR (or bare address); returns its version, or undefined. */
export function cidrVersion(text: string): 4 | 6 | undefined {
  if (parseCidr4(text)) return 4;
  const [ip, prefix, extra] = text.split('/');
  if (extra !== undefined || !ip || !isIPv6(ip)) return undefined;
  if (prefix !== undefined && (!/^\d{1,3}$/.test(prefix) || Number(prefix) > 128)) return undefined;
  return 6;
}

export function cidrToString(cidr: Cidr4): string {
  return `${numberToIpv4(cidr.network)}/${cidr.prefix}`;
}

export function cidrContains(cidr: Cidr4, ip: number): boolean {
  return ((ip & mask(cidr.prefix)) >>> 0) === cidr.network;
}

export function cidrsOverlap(a: Cidr4, b: Cidr4): boolean {
  const [wider, narrower] = a.prefix <= b.prefix ? [a, b] : [b, a];
  return cidrContains(wider, narrower.network);
}

export function cidrSize(cidr: Cidr4): number {
  return 2 ** (32 - cidr.prefix);
}

export { isIPv4, isIPv6 };

/** Calico's BGPPeer peerIP forms: IP, IPv4:port, [IPv6]:port. Returns ip and port, or undefined. */
export function parsePeerIP(text: string): { ip: string; port?: number } | undefined {
  if (isIPv4(text) || isIPv6(text)) return { ip: text };
  const v4 = /^([0-9.]+):(\d{1,5})$/.exec(text);
  if (v4 && isIPv4(v4[1]!) && Number(v4[2]) <= 65535) return { ip: v4[1]!, port: Number(v4[2]) };
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(text);
  if (v6 && isIPv6(v6[1]!) && Number(v6[2]) <= 65535) return { ip: v6[1]!, port: Number(v6[2]) };
  return undefined;
}
