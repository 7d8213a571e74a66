// IPv4 address arithmetic for the topology: parsing `a.b.c.d/len`, networks, containment.
// Only what the lab needs; every parse error says what was received.

export interface Cidr {
  /** The address as written, without the length: `10.50.1.1` in `10.50.1.1/24`. */
  address: string;
  length: number;
}

export function parseAddress(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new Error(`"${text}" is not an IPv4 address (expected four numbers 0-255 separated by dots)`);
  }
  return parts.reduce((value, part) => value * 256 + Number(part), 0);
}

export function formatAddress(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export function parseCidr(text: string): Cidr {
  const match = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!match || Number(match[2]) > 32) {
    throw new Error(`"${text}" is not an IPv4 prefix (expected a.b.c.d/len with len 0-32)`);
  }
  parseAddress(match[1]!);
  return { address: match[1]!, length: Number(match[2]) };
}

export function formatCidr(cidr: Cidr): string {
  return `${cidr.address}/${cidr.length}`;
}

/** The network of a prefix with host bits cleared: `10.50.1.1/24` → `10.50.1.0/24`. */
export function networkOf(cidr: Cidr): Cidr {
  const size = 2 ** (32 - cidr.length);
  const base = Math.floor(parseAddress(cidr.address) / size) * size;
  return { address: formatAddress(base), length: cidr.length };
}

export function contains(prefix: Cidr, address: string): boolean {
  const size = 2 ** (32 - prefix.length);
  const base = Math.floor(parseAddress(prefix.address) / size) * size;
  const value = parseAddress(address);
  return value >= base && value < base + size;
}

export function sameNetwork(a: Cidr, b: Cidr): boolean {
  return a.length === b.length && contains(networkOf(a), b.address);
}
