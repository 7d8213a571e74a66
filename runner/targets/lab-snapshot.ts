// Reads `lab status --json` (lab/status.ts) into the protocol's generic lab snapshot: devices with
// a role and a rack, links with one state, and one session per pair of devices whatever number of
// ends reported it. Only the fields used are checked; the lab may add others.

import { z } from 'zod';
import { labSnapshotSchema, type LabDevice, type LabDeviceRole, type LabLink, type LabSession, type LabSnapshot } from '../protocol.ts';

const statusSchema = z.object({
  devices: z.array(
    z.object({
      name: z.string(),
      kind: z.string(),
      rack: z.string().optional(),
      state: z.string(),
      ready: z.boolean().nullable().optional(),
      daemons: z.array(z.object({ name: z.string(), running: z.boolean() })).default([]),
      pods: z.array(z.object({ pod: z.string(), present: z.boolean() })).default([]),
    }),
  ),
  links: z.array(z.object({ id: z.string(), a: z.string(), b: z.string(), failed: z.boolean().default(false) })),
  sessions: z.array(z.object({ device: z.string(), peer: z.string(), state: z.string(), peerDevice: z.string().nullable().optional() })),
});
export type LabStatus = z.infer<typeof statusSchema>;

const ROLES: Record<string, LabDeviceRole> = { spine: 'spine', leaf: 'leaf', node: 'node' };
/** Which end of a session is named first: the upper tier, so changes read "leaf10 → k8s-master". */
const RANK: Record<LabDeviceRole, number> = { spine: 0, leaf: 1, node: 2, pod: 3, other: 4 };
const ESTABLISHED = 'Established';

export function parseLabStatus(line: string): { ok: true; snapshot: LabSnapshot } | { ok: false; message: string } {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    return { ok: false, message: `lab status printed something that is not JSON: ${(error as Error).message}` };
  }
  const parsed = statusSchema.safeParse(json);
  if (!parsed.success) return { ok: false, message: `lab status --json has an unexpected shape: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  const snapshot = labStatusToSnapshot(parsed.data);
  const checked = labSnapshotSchema.safeParse(snapshot);
  if (!checked.success) return { ok: false, message: `lab snapshot is invalid: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  return { ok: true, snapshot: checked.data };
}

export function labStatusToSnapshot(status: LabStatus): LabSnapshot {
  const devices: LabDevice[] = [];
  for (const d of status.devices) {
    const role = ROLES[d.kind] ?? 'other';
    const stopped = d.daemons.filter((x) => !x.running).map((x) => x.name);
    let state: LabDevice['state'] = 'up';
    let detail: string | undefined;
    if (d.state === 'not created') [state, detail] = ['down', 'not created'];
    else if (d.state.startsWith('failed')) [state, detail] = ['failed', d.state];
    else if (stopped.length > 0) [state, detail] = ['down', `${stopped.join(', ')} not running`];
    else if (d.ready === false) [state, detail] = ['notready', 'NotReady'];
    else if (d.ready === true) detail = 'Ready';
    devices.push({ name: d.name, role, ...(d.rack ? { group: d.rack } : {}), state, ...(detail ? { detail } : {}) });
    for (const pod of d.pods) {
      devices.push({ name: pod.pod, role: 'pod', ...(d.rack ? { group: d.rack } : {}), parent: d.name, state: pod.present && (state === 'up' || state === 'notready') ? 'up' : 'down' });
    }
  }
  const links: LabLink[] = status.links.map((l) => {
    const [a, b] = l.id.split('--') as [string, string];
    const up = l.a === 'up' && l.b === 'up';
    const detail = l.failed ? 'failed' : up ? undefined : `${a} ${l.a}, ${b} ${l.b}`;
    return { a, b, state: up ? 'up' : 'down', ...(detail ? { detail } : {}) };
  });
  const role = new Map(devices.map((d) => [d.name, d.role]));
  // One session per pair of devices: both ends report it (a frozen or absent end does not).
  const pairs = new Map<string, { a: string; b: string; states: { device: string; state: string }[] }>();
  for (const s of status.sessions) {
    if (!s.peerDevice || !role.has(s.device) || !role.has(s.peerDevice)) continue;
    const [a, b] = [s.device, s.peerDevice].sort((x, y) => RANK[role.get(x)!] - RANK[role.get(y)!] || (x < y ? -1 : 1)) as [string, string];
    const key = `${a}|${b}`;
    let pair = pairs.get(key);
    if (!pair) pairs.set(key, (pair = { a, b, states: [] }));
    // BIRD says "Active Socket: Connection refused"; the state is the first word, the rest is detail.
    pair.states.push({ device: s.device, state: s.state.trim() || 'unknown' });
  }
  const sessions: LabSession[] = [...pairs.values()].map(({ a, b, states }) => {
    const established = states.every((s) => s.state === ESTABLISHED);
    const worst = states.find((s) => s.state !== ESTABLISHED);
    const word = (worst?.state ?? ESTABLISHED).split(/\s+/)[0]!;
    const detail = states.map((s) => `${s.device}: ${s.state}`).join('; ');
    return { a, b, protocol: 'bgp', state: word, established, detail: detail.slice(0, 200) };
  });
  return { devices, links, sessions };
}
