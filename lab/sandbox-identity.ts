// The host identity of a sandbox: the one host uid and gid that its root (uid 0 inside) is, so that
// what a learner does as root in their lab is done on the host by an account that owns nothing:
// not root, not the runner's account, not another learner's sandbox.
//
// - A root runner takes them from a reserved range, LAB_ID_BASE (default 1900000000) onwards, one
//   per sandbox: inside 0x70000000–0x7FFDFFFF, which systemd leaves unassigned (its container
//   ranges end below it, and 2^31 and up trips signed-uid bugs), and far above /etc/subuid's
//   default ranges (100000–600100000). It becomes that uid (setpriv) before bwrap makes the user
//   namespace, so the kernel maps 0 to it as it maps any user's own uid.
// - An unprivileged runner takes them from its own subordinate ranges in /etc/subuid and
//   /etc/subgid, the rootless-container way: `unshare --map-users` calls Debian's newuidmap.
// - An unprivileged runner without subordinate ranges maps sandbox root to itself, as before, and
//   says once what that costs and how to fix it.
//
// A sandbox claims its slot (its offset in the range) with an exclusive file in the state root,
// released when the sandbox ends; a claim whose sandbox is gone is taken back.

import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';

export const DEFAULT_ID_BASE = 1_900_000_000;
/** Sandboxes one root runner can hold at once: far more than a machine can run. */
export const ROOT_SLOTS = 65_536;
/** A claim younger than this may belong to a sandbox still being started: never taken back. */
const CLAIM_MIN_AGE_MS = 60_000;

export type SandboxIdentity =
  | { kind: 'reserved'; uid: number; gid: number; slot: number }
  | { kind: 'subordinate'; uid: number; gid: number; slot: number }
  | { kind: 'own'; uid: number; gid: number; why: string };

export type SubordinateRange = { start: number; count: number };

/** The first range of `/etc/subuid` or `/etc/subgid` text for a user (by name or by uid). */
export function subordinateRange(text: string, user: string, uid: number): SubordinateRange | undefined {
  for (const line of text.split('\n')) {
    const [owner, start, count] = line.trim().split(':');
    if ((owner === user || owner === String(uid)) && Number(count) > 0 && Number.isInteger(Number(start))) {
      return { start: Number(start), count: Number(count) };
    }
  }
  return undefined;
}

function readRange(file: string, user: string, uid: number): SubordinateRange | undefined {
  try {
    return subordinateRange(readFileSync(file, 'utf8'), user, uid);
  } catch {
    return undefined; // no such file: no ranges on this machine
  }
}

function idBase(env: NodeJS.ProcessEnv): number {
  if (!env.LAB_ID_BASE) return DEFAULT_ID_BASE;
  const base = Number(env.LAB_ID_BASE);
  if (!Number.isInteger(base) || base < 65_536 || base + ROOT_SLOTS > 2 ** 31) {
    throw new Error(`LAB_ID_BASE must be a whole number from 65536 to ${2 ** 31 - ROOT_SLOTS}, got ${JSON.stringify(env.LAB_ID_BASE)}`);
  }
  return base;
}

function claimsDir(stateRoot: string): string {
  return join(stateRoot, '.ids'); // a name no sandbox can have
}

/**
 * Claims the lowest free slot below `slots` for sandbox `name` (or finds the one it holds).
 * `alive(name)` says whether a claim's sandbox still runs; a dead one's claim is taken back.
 */
export function claimSlot(stateRoot: string, name: string, slots: number, alive: (name: string) => boolean): number {
  const dir = claimsDir(stateRoot);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const held = heldSlot(stateRoot, name);
  if (held !== undefined) return held;
  for (let slot = 0; slot < slots; slot++) {
    const file = join(dir, String(slot));
    try {
      writeFileSync(file, name, { flag: 'wx', mode: 0o600 });
      return slot;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let holder = '';
    try {
      holder = readFileSync(file, 'utf8');
      if (holder === name) return slot;
      if (alive(holder) || Date.now() - statSync(file).mtimeMs < CLAIM_MIN_AGE_MS) continue;
    } catch {
      continue; // released meanwhile: the next round of `wx` decides
    }
    rmSync(file, { force: true }); // the sandbox that held it is gone
    try {
      writeFileSync(file, name, { flag: 'wx', mode: 0o600 });
      return slot;
    } catch {
      continue; // another start took it back first
    }
  }
  throw new Error(`all ${slots} sandbox identities are in use (${dir})`);
}

export function heldSlot(stateRoot: string, name: string): number | undefined {
  let entries: string[];
  try {
    entries = readdirSync(claimsDir(stateRoot));
  } catch {
    return undefined; // no claims yet
  }
  for (const entry of entries) {
    try {
      if (readFileSync(join(claimsDir(stateRoot), entry), 'utf8') === name) return Number(entry);
    } catch {
      // released meanwhile
    }
  }
  return undefined;
}

/** Releases a sandbox's slot; idempotent. */
export function releaseSlot(stateRoot: string, name: string): void {
  const slot = heldSlot(stateRoot, name);
  if (slot !== undefined) rmSync(join(claimsDir(stateRoot), String(slot)), { force: true });
}

type Source = { kind: 'reserved'; base: number } | { kind: 'subordinate'; uids: SubordinateRange; gids: SubordinateRange } | { kind: 'own'; why: string };

/** Where this process takes its sandboxes' identities from (what `lab check` reports). */
export function identitySource(env: NodeJS.ProcessEnv = process.env): Source {
  const uid = process.getuid?.() ?? 0;
  if (uid === 0) return { kind: 'reserved', base: idBase(env) };
  const user = userInfo().username;
  const uids = readRange('/etc/subuid', user, uid);
  const gids = readRange('/etc/subgid', user, process.getgid?.() ?? 0);
  const mapper = ['/usr/bin/newuidmap', '/usr/bin/newgidmap'].every((tool) => existsSync(tool));
  if (uids && gids && mapper) return { kind: 'subordinate', uids, gids };
  const why = !mapper
    ? 'newuidmap is not installed (sudo apt-get install uidmap)'
    : `${user} has no subordinate ${!uids ? 'uids in /etc/subuid' : 'gids in /etc/subgid'} (sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user})`;
  return { kind: 'own', why };
}

/** The identity sandbox `name` runs as, claiming a slot for it. */
export function sandboxIdentity(stateRoot: string, name: string, alive: (name: string) => boolean, env: NodeJS.ProcessEnv = process.env): SandboxIdentity {
  const source = identitySource(env);
  switch (source.kind) {
    case 'reserved': {
      const slot = claimSlot(stateRoot, name, ROOT_SLOTS, alive);
      return { kind: 'reserved', uid: source.base + slot, gid: source.base + slot, slot };
    }
    case 'subordinate': {
      const slot = claimSlot(stateRoot, name, Math.min(source.uids.count, source.gids.count), alive);
      return { kind: 'subordinate', uid: source.uids.start + slot, gid: source.gids.start + slot, slot };
    }
    case 'own':
      return { kind: 'own', uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, why: source.why };
  }
}
