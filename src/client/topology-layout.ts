// Where the topology view draws each device, computed from the graph alone: roles give the rows
// (spines on top, leaves, then nodes), groups give the columns (one band per rack, in natural
// order: rack2 before rack10), pods are counted inside their node. Nothing here knows a device
// by name, so a third rack draws like the first two. Pure: no DOM, unit-tested.

import type { LabDevice, LabSnapshot } from '../../runner/protocol.ts';

/** Size of a switch box and a node box in the SVG's own units (the SVG scales to its pane). */
export const BOX = { width: 92, height: 28 } as const;
export const NODE_BOX = { width: 112, height: 40 } as const;
/** Horizontal room per device in a rack band, and the gap between bands. */
export const SLOT = 112;
export const GROUP_GAP = 36;
export const MARGIN = { x: 18, top: 14, bottom: 26 } as const;
/** Vertical distance between rows. */
export const ROW_GAP = 62;

export type PlacedDevice = {
  device: LabDevice;
  x: number;
  y: number;
  width: number;
  height: number;
  /** Pods running on a node, to draw as dots inside it. */
  pods: LabDevice[];
};

export type GroupBand = { name: string; x: number; y: number; width: number; height: number };

export type Layout = {
  width: number;
  height: number;
  devices: Map<string, PlacedDevice>;
  groups: GroupBand[];
};

/** Rows from the top; `other` devices get a row of their own at the bottom. */
const ROW_ORDER: LabDevice['role'][] = ['spine', 'leaf', 'node', 'other'];
const UNGROUPED = '';

const naturally = new Intl.Collator('en', { numeric: true }).compare;

export function layoutTopology(snapshot: LabSnapshot): Layout {
  const pods = new Map<string, LabDevice[]>();
  for (const device of snapshot.devices) {
    if (device.role !== 'pod' || device.parent === undefined) continue;
    const list = pods.get(device.parent) ?? [];
    list.push(device);
    pods.set(device.parent, list);
  }
  const drawn = snapshot.devices.filter((d) => d.role !== 'pod');
  const rows = ROW_ORDER.map((role) => drawn.filter((d) => d.role === role).sort((a, b) => naturally(a.name, b.name))).filter((row) => row.length > 0);
  const rowOf = (role: LabDevice['role']) => rows.findIndex((row) => row[0]?.role === role);

  // Groups (racks) hold the leaves and nodes; spines and ungrouped devices span the whole width.
  const grouped = drawn.filter((d) => d.role !== 'spine' && d.group !== undefined);
  const groupNames = [...new Set(grouped.map((d) => d.group!))].sort(naturally);
  const perRowInGroup = (group: string) =>
    Math.max(1, ...rows.map((row) => row.filter((d) => d.role !== 'spine' && d.group === group).length));
  const bands: { name: string; x: number; width: number }[] = [];
  let x = MARGIN.x;
  for (const name of groupNames) {
    const width = perRowInGroup(name) * SLOT;
    bands.push({ name, x, width });
    x += width + GROUP_GAP;
  }
  const groupedWidth = bands.length ? x - GROUP_GAP - MARGIN.x : 0;
  // Devices that no group holds (spines, or a leaf with no rack) are spread over the whole width.
  const loose = rows.map((row) => row.filter((d) => d.role === 'spine' || d.group === undefined));
  const looseWidth = Math.max(0, ...loose.map((row) => row.length * SLOT));
  const contentWidth = Math.max(groupedWidth, looseWidth, SLOT);
  const width = contentWidth + 2 * MARGIN.x;
  // Center the rack bands when the spines are wider.
  const shift = (contentWidth - groupedWidth) / 2;
  for (const band of bands) band.x += shift;

  const rowY = (index: number) => MARGIN.top + index * ROW_GAP;
  const devices = new Map<string, PlacedDevice>();
  const place = (device: LabDevice, cx: number, row: number) => {
    const box = device.role === 'node' ? NODE_BOX : BOX;
    devices.set(device.name, {
      device,
      x: cx - box.width / 2,
      y: rowY(row),
      width: box.width,
      height: box.height,
      pods: (pods.get(device.name) ?? []).sort((a, b) => naturally(a.name, b.name)),
    });
  };
  rows.forEach((row, index) => {
    for (const band of bands) {
      const members = row.filter((d) => d.role !== 'spine' && d.group === band.name);
      const slot = band.width / members.length;
      members.forEach((device, i) => place(device, band.x + slot * (i + 0.5), index));
    }
    const spread = loose[index]!;
    const slot = contentWidth / spread.length;
    spread.forEach((device, i) => place(device, MARGIN.x + slot * (i + 0.5), index));
  });

  const lastRow = rows.length - 1;
  const bottom = lastRow >= 0 ? rowY(lastRow) + (rows[lastRow]!.some((d) => d.role === 'node') ? NODE_BOX.height : BOX.height) : 0;
  const height = bottom + MARGIN.bottom;
  // A band covers its rack's rows: from the first leaf/node row to the bottom.
  const firstGroupedRow = Math.min(...[rowOf('leaf'), rowOf('node')].filter((r) => r >= 0));
  const groups: GroupBand[] = Number.isFinite(firstGroupedRow)
    ? bands.map((band) => ({ name: band.name, x: band.x - 8, y: rowY(firstGroupedRow) - 10, width: band.width + 16, height: bottom - rowY(firstGroupedRow) + 22 }))
    : [];
  return { width, height, devices, groups };
}

/** Where a line between two devices starts and ends: the middle of the facing edges. */
export function anchor(from: PlacedDevice, to: PlacedDevice): { x1: number; y1: number; x2: number; y2: number } {
  const cx = (d: PlacedDevice) => d.x + d.width / 2;
  if (Math.abs(from.y - to.y) < 1) {
    // Same row: from the bottom edges (the line is drawn as an arc below).
    return { x1: cx(from), y1: from.y + from.height, x2: cx(to), y2: to.y + to.height };
  }
  const [upper, lower] = from.y < to.y ? [from, to] : [to, from];
  const points = { x1: cx(upper), y1: upper.y + upper.height, x2: cx(lower), y2: lower.y };
  return from === upper ? points : { x1: points.x2, y1: points.y2, x2: points.x1, y2: points.y1 };
}

/** The device name of a link end ("leaf10:swp1" → "leaf10"). */
export function endDevice(end: string): string {
  const colon = end.lastIndexOf(':');
  return colon > 0 ? end.slice(0, colon) : end;
}

export type SessionLook = 'established' | 'connecting' | 'down';

/** How a session is coloured: up, trying (BGP's Connect/Active/Open*, BIRD's Passive), or down (Idle, anything else). */
export function sessionLook(session: { state: string; established: boolean }): SessionLook {
  if (session.established) return 'established';
  return /^(connect|active|passive|opensent|openconfirm|start)/i.test(session.state) ? 'connecting' : 'down';
}
