// The datastore behind the lab's API server: objects by kind, namespace and name, a global revision
// (every write bumps it and stamps the object's resourceVersion), a bounded log of watch events, and
// persistence to one JSON file written atomically (temp file, fsync, rename), so that a restart of
// the API server loses nothing and a crash mid-write leaves the previous state intact.

import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { KINDS, KIND_KEYS, type KindKey, type StoredObject } from './resources.ts';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  revision: number;
  type: EventType;
  kind: KindKey;
  object: StoredObject;
}

/** How many past events a watcher can resume from; older revisions get "gone" and must relist. */
const EVENT_LOG_LENGTH = 2000;

export type StoreError =
  | { reason: 'NotFound'; kind: KindKey; name: string; namespace?: string }
  | { reason: 'AlreadyExists'; kind: KindKey; name: string; namespace?: string }
  | { reason: 'Conflict'; kind: KindKey; name: string; namespace?: string; current: string; given: string };

export type StoreResult = { ok: true; object: StoredObject } | { ok: false; error: StoreError };

const PersistedState = z.object({
  version: z.literal(1),
  revision: z.number().int().nonnegative(),
  objects: z.array(z.object({ kind: z.string(), object: z.record(z.string(), z.unknown()) })),
});

function key(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

export class Store {
  private readonly objects = new Map<KindKey, Map<string, StoredObject>>(KIND_KEYS.map((k) => [k, new Map()]));
  private readonly events: WatchEvent[] = [];
  private readonly waiters = new Set<() => void>();
  private currentRevision = 0;
  private readonly file: string | undefined;

  private constructor(file: string | undefined) {
    this.file = file;
  }

  /**
   * Opens the datastore persisted in `file` (undefined: memory only). A missing file is a fresh
   * cluster, created from `seed()`; a corrupt one is an error (never silently replaced).
   */
  static open(file: string | undefined, seed: () => StoredObject[]): Store {
    const store = new Store(file);
    let text: string | undefined;
    if (file) {
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    if (text !== undefined) {
      const state = PersistedState.parse(JSON.parse(text));
      store.currentRevision = state.revision;
      for (const { kind, object } of state.objects) {
        if (!store.objects.has(kind as KindKey)) throw new Error(`${file}: unknown kind "${kind}" in the datastore`);
        const stored = object as unknown as StoredObject;
        store.objects.get(kind as KindKey)!.set(key(stored.metadata.namespace, stored.metadata.name), stored);
      }
    } else {
      for (const object of seed()) {
        const kind = KIND_KEYS.find((k) => KINDS[k].kind === object.kind && KINDS[k].apiVersion === object.apiVersion);
        if (!kind) throw new Error(`seed object of unknown kind ${object.apiVersion}/${object.kind}`);
        store.currentRevision++;
        object.metadata.resourceVersion = String(store.currentRevision);
        store.objects.get(kind)!.set(key(object.metadata.namespace, object.metadata.name), object);
      }
      store.persist();
    }
    return store;
  }

  get revision(): number {
    return this.currentRevision;
  }

  list(kind: KindKey, namespace?: string): StoredObject[] {
    const all = [...this.objects.get(kind)!.values()];
    const filtered = namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
    return filtered
      .sort((a, b) => key(a.metadata.namespace, a.metadata.name).localeCompare(key(b.metadata.namespace, b.metadata.name)))
      .map(clone);
  }

  get(kind: KindKey, name: string, namespace?: string): StoredObject | undefined {
    const found = this.objects.get(kind)!.get(key(namespace, name));
    return found && clone(found);
  }

  create(kind: KindKey, object: StoredObject, now = Date.now()): StoreResult {
    const { name, namespace } = object.metadata;
    const map = this.objects.get(kind)!;
    if (map.has(key(namespace, name))) return { ok: false, error: { reason: 'AlreadyExists', kind, name, namespace } };
    const stored = clone(object);
    stored.metadata.uid = randomUUID();
    stored.metadata.creationTimestamp ??= new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return this.commit(kind, 'ADDED', stored);
  }

  /**
   * Replaces an object. When `object.metadata.resourceVersion` is set it must be the current one
   * (optimistic concurrency, as Kubernetes does); uid and creation time are kept from the stored one.
   */
  update(kind: KindKey, object: StoredObject): StoreResult {
    const { name, namespace, resourceVersion } = object.metadata;
    const current = this.objects.get(kind)!.get(key(namespace, name));
    if (!current) return { ok: false, error: { reason: 'NotFound', kind, name, namespace } };
    if (resourceVersion && resourceVersion !== current.metadata.resourceVersion) {
      return { ok: false, error: { reason: 'Conflict', kind, name, namespace, current: current.metadata.resourceVersion ?? '', given: resourceVersion } };
    }
    const stored = clone(object);
    stored.metadata.uid = current.metadata.uid;
    stored.metadata.creationTimestamp = current.metadata.creationTimestamp;
    return this.commit(kind, 'MODIFIED', stored);
  }

  delete(kind: KindKey, name: string, namespace?: string): StoreResult {
    const map = this.objects.get(kind)!;
    const current = map.get(key(namespace, name));
    if (!current) return { ok: false, error: { reason: 'NotFound', kind, name, namespace } };
    map.delete(key(namespace, name));
    this.currentRevision++;
    this.record('DELETED', kind, current);
    this.persist();
    return { ok: true, object: clone(current) };
  }

  private commit(kind: KindKey, type: EventType, stored: StoredObject): StoreResult {
    this.currentRevision++;
    stored.metadata.resourceVersion = String(this.currentRevision);
    this.objects.get(kind)!.set(key(stored.metadata.namespace, stored.metadata.name), stored);
    this.record(type, kind, stored);
    this.persist();
    return { ok: true, object: clone(stored) };
  }

  private record(type: EventType, kind: KindKey, object: StoredObject): void {
    this.events.push({ revision: this.currentRevision, type, kind, object: clone(object) });
    if (this.events.length > EVENT_LOG_LENGTH) this.events.splice(0, this.events.length - EVENT_LOG_LENGTH);
    for (const wake of [...this.waiters]) wake();
  }

  /** Events after `since`; 'gone' when they are no longer in the log (the watcher must relist). */
  eventsSince(since: number): WatchEvent[] | 'gone' {
    if (since >= this.currentRevision) return [];
    const oldest = this.events[0]?.revision;
    if (oldest === undefined || since < oldest - 1) return 'gone';
    return this.events.filter((e) => e.revision > since).map(clone);
  }

  /** Resolves when there are events after `since`, or after `timeoutMs`, or when `signal` aborts. */
  waitForEvents(since: number, timeoutMs: number, signal?: AbortSignal): Promise<WatchEvent[] | 'gone'> {
    const now = this.eventsSince(since);
    if (now === 'gone' || now.length > 0 || timeoutMs <= 0) return Promise.resolve(now);
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        signal?.removeEventListener('abort', finish);
        resolve(this.eventsSince(since));
      };
      const wake = () => finish();
      const timer = setTimeout(finish, timeoutMs);
      this.waiters.add(wake);
      signal?.addEventListener('abort', finish, { once: true });
    });
  }

  private persist(): void {
    if (!this.file) return;
    const objects: Array<{ kind: KindKey; object: StoredObject }> = [];
    for (const kind of KIND_KEYS) for (const object of this.objects.get(kind)!.values()) objects.push({ kind, object });
    const text = JSON.stringify({ version: 1, revision: this.currentRevision, objects });
    mkdirSync(dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.tmp`;
    const fd = openSync(temp, 'w', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.file);
  }
}
