// The live topology of one learner's lab: observed through the target only while at least one of
// the learner's pages watches it (one observation per learner, however many pages), diffed, and
// forwarded to the watching pages when it changes. The runner knows nothing of what the devices
// are: it compares graphs.

import type { LabChange, LabSnapshot, ServerMessage } from './protocol.ts';
import type { Observation, Target } from './target.ts';

/** The latest changes kept and sent to a page that starts watching: enough for a "last change" note and a short history. */
export const MAX_RECENT_CHANGES = 20;

export interface TopologyWatcher {
  send(message: ServerMessage): void;
}

/** A stable text for a snapshot, to drop repeats: the same graph in any order says the same. */
export function snapshotKey(snapshot: LabSnapshot): string {
  const sorted = <T>(items: T[], key: (item: T) => string) => [...items].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
  return JSON.stringify({
    devices: sorted(snapshot.devices, (d) => d.name),
    links: sorted(snapshot.links, linkKey),
    sessions: sorted(snapshot.sessions, sessionKey),
  });
}

function linkKey(link: { a: string; b: string }): string {
  return [link.a, link.b].sort().join(' — ');
}

function sessionKey(session: { a: string; b: string; protocol: string }): string {
  return `${[session.a, session.b].sort().join(' ↔ ')} ${session.protocol}`;
}

/**
 * What changed from `before` to `after`, in the order devices, links, sessions. A device counts
 * by its state, a link by its state, a session by its state text; items that appear or disappear
 * are changes too (a dynamic BGP neighbour appears only once it connects).
 */
export function diffSnapshots(before: LabSnapshot | null, after: LabSnapshot, at: number): LabChange[] {
  if (before === null) return [];
  const changes: LabChange[] = [];
  const compare = <T>(kind: LabChange['kind'], old: T[], now: T[], key: (item: T) => string, subject: (item: T) => string, state: (item: T) => string) => {
    const previous = new Map(old.map((item) => [key(item), item]));
    const seen = new Set<string>();
    for (const item of now) {
      const k = key(item);
      seen.add(k);
      const was = previous.get(k);
      if (!was) changes.push({ kind, subject: subject(item), to: state(item), at });
      else if (state(was) !== state(item)) changes.push({ kind, subject: subject(item), from: state(was), to: state(item), at });
    }
    for (const [k, item] of previous) if (!seen.has(k)) changes.push({ kind, subject: subject(item), from: state(item), at });
  };
  compare('device', before.devices, after.devices, (d) => d.name, (d) => d.name, (d) => d.state);
  compare('link', before.links, after.links, linkKey, (l) => `${l.a} — ${l.b}`, (l) => l.state);
  compare('session', before.sessions, after.sessions, sessionKey, (s) => `${s.a} → ${s.b} ${s.protocol.toUpperCase()}`, (s) => s.state);
  return changes;
}

export class TopologyWatch {
  readonly #target: Target;
  readonly #learner: string;
  readonly #log: (line: string) => void;
  readonly #watchers = new Set<TopologyWatcher>();
  #observation: Observation | undefined;
  #snapshot: LabSnapshot | null = null;
  #key = '';
  #unavailable: string | undefined = 'waiting for the lab';
  #changes: LabChange[] = [];
  #disposed = false;

  constructor(target: Target, learner: string, log: (line: string) => void) {
    this.#target = target;
    this.#learner = learner;
    this.#log = log;
  }

  get observing(): boolean {
    return this.#observation !== undefined;
  }

  get watcherCount(): number {
    return this.#watchers.size;
  }

  /** Starts sending `topology` frames to the watcher: the current state at once, then changes. */
  add(watcher: TopologyWatcher): void {
    if (this.#disposed) return;
    if (!this.#target.observe) {
      watcher.send({ type: 'topology', snapshot: null, unavailable: `the ${this.#target.name} target has no lab to show`, changes: [] });
      return;
    }
    this.#watchers.add(watcher);
    if (!this.#observation) {
      this.#observation = this.#target.observe(this.#learner, (observation) => {
        if (this.#disposed || !this.#observation) return;
        if (observation.ok) this.#update(observation.snapshot);
        else this.#fail(observation.message);
      });
    }
    // A page that asks again just gets the state once more.
    watcher.send(this.#message(this.#changes));
  }

  remove(watcher: TopologyWatcher): void {
    if (!this.#watchers.delete(watcher) || this.#watchers.size > 0) return;
    this.#stop();
  }

  dispose(): void {
    this.#disposed = true;
    this.#watchers.clear();
    this.#stop();
  }

  #stop(): void {
    const observation = this.#observation;
    this.#observation = undefined;
    // Nobody sees the lab now: what we knew goes stale, so the next watcher starts afresh.
    this.#snapshot = null;
    this.#key = '';
    this.#unavailable = 'waiting for the lab';
    this.#changes = [];
    observation?.dispose();
  }

  #message(changes: LabChange[]): ServerMessage {
    return this.#unavailable !== undefined && this.#snapshot === null
      ? { type: 'topology', snapshot: null, unavailable: this.#unavailable, changes }
      : { type: 'topology', snapshot: this.#snapshot, changes };
  }

  #update(snapshot: LabSnapshot): void {
    const key = snapshotKey(snapshot);
    if (key === this.#key && this.#unavailable === undefined) return;
    const changes = diffSnapshots(this.#snapshot, snapshot, Date.now());
    this.#snapshot = snapshot;
    this.#key = key;
    this.#unavailable = undefined;
    this.#changes = [...this.#changes, ...changes].slice(-MAX_RECENT_CHANGES);
    this.#broadcast(this.#message(this.#changes));
  }

  #fail(message: string): void {
    if (this.#unavailable === message && this.#snapshot === null) return;
    this.#log(`learner ${this.#learner}: topology unavailable: ${message}`);
    // The last snapshot is not shown as if it were current; the changes stay, they happened.
    this.#snapshot = null;
    this.#key = '';
    this.#unavailable = message;
    this.#broadcast(this.#message(this.#changes));
  }

  #broadcast(message: ServerMessage): void {
    for (const watcher of this.#watchers) watcher.send(message);
  }
}
