// The workshop's own tables, in the runner's progress database (STATE/progress.db) beside the
// learners' step states, through a connection of its own. Versioned like runner/progress-store.ts,
// but in a table of its own (`workshop_schema`), since `PRAGMA user_version` belongs to the
// progress store. Every write is committed before the call returns (WAL), so a runner killed with
// SIGKILL loses nothing a learner or the instructor saw happen.

import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { PROGRESS_DB_FILE } from '../progress-store.ts';
import { isSecretHash, secretHash } from '../secret.ts';

/** Each entry moves the schema from version index to index + 1. Never edit one that shipped. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE workshops (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     code TEXT NOT NULL,
     secret TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     ends_at INTEGER,
     closed_at INTEGER,
     locked TEXT NOT NULL
   );
   CREATE TABLE workshop_learners (
     learner TEXT PRIMARY KEY,
     workshop TEXT NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
     seat TEXT NOT NULL UNIQUE,
     name TEXT NOT NULL,
     joined_at INTEGER NOT NULL,
     last_seen_at INTEGER NOT NULL
   );
   CREATE INDEX workshop_learners_by_workshop ON workshop_learners (workshop, joined_at);
   CREATE TABLE workshop_notices (
     id TEXT PRIMARY KEY,
     workshop TEXT NOT NULL REFERENCES workshops(id) ON DELETE CASCADE,
     learner TEXT,
     kind TEXT NOT NULL,
     text TEXT NOT NULL,
     at INTEGER NOT NULL
   );
   CREATE INDEX workshop_notices_by_workshop ON workshop_notices (workshop, at);`,
];
export const WORKSHOP_SCHEMA_VERSION = MIGRATIONS.length;
/** Another connection (the progress store) may hold the write lock for a moment. */
const BUSY_TIMEOUT_MS = 5_000;

export class WorkshopStoreError extends Error {
  override name = 'WorkshopStoreError';
}

export type WorkshopRecord = {
  id: string;
  name: string;
  code: string;
  /** The instructor's key, as runner/secret.ts stores it: its hash, never the key. */
  secretHash: string;
  startedAt: number;
  endsAt: number | null;
  locked: string[];
};

export type WorkshopLearnerRecord = {
  learner: string;
  seat: string;
  name: string;
  joinedAt: number;
  lastSeenAt: number;
};

export type NoticeRecord = { id: string; learner: string | null; kind: 'hint' | 'broadcast'; text: string; at: number };

type Row = Record<string, unknown>;

export class WorkshopStore {
  readonly file: string;
  readonly #db: DatabaseSync;
  readonly #s: Record<string, StatementSync>;
  #closed = false;

  private constructor(file: string, db: DatabaseSync) {
    this.file = file;
    this.#db = db;
    const p = (sql: string) => db.prepare(sql);
    this.#s = {
      open: p(`SELECT * FROM workshops WHERE closed_at IS NULL ORDER BY started_at DESC LIMIT 1`),
      insert: p(`INSERT INTO workshops (id, name, code, secret, started_at, ends_at, closed_at, locked) VALUES (?, ?, ?, ?, ?, ?, NULL, ?)`),
      close: p(`UPDATE workshops SET closed_at = ? WHERE closed_at IS NULL`),
      setLocked: p(`UPDATE workshops SET locked = ? WHERE id = ?`),
      setSecret: p(`UPDATE workshops SET secret = ? WHERE id = ?`),
      learners: p(`SELECT * FROM workshop_learners WHERE workshop = ? ORDER BY joined_at, seat`),
      addLearner: p(`INSERT INTO workshop_learners (learner, workshop, seat, name, joined_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)`),
      rename: p(`UPDATE workshop_learners SET name = ? WHERE learner = ?`),
      seen: p(`UPDATE workshop_learners SET last_seen_at = ? WHERE learner = ?`),
      addNotice: p(`INSERT INTO workshop_notices (id, workshop, learner, kind, text, at) VALUES (?, ?, ?, ?, ?, ?)`),
      notices: p(`SELECT * FROM workshop_notices WHERE workshop = ? AND (learner IS NULL OR learner = ?) ORDER BY at DESC LIMIT ?`),
    };
  }

  /** Opens STATE_DIR/progress.db (the progress store has created it) and migrates the workshop tables. */
  static open(stateDir: string): WorkshopStore {
    const file = path.join(stateDir, PROGRESS_DB_FILE);
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(file);
    } catch (error) {
      throw new WorkshopStoreError(`Cannot open the progress database ${file} for the workshop: ${(error as Error).message}`);
    }
    try {
      db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.exec('PRAGMA foreign_keys = ON');
      db.exec('CREATE TABLE IF NOT EXISTS workshop_schema (version INTEGER NOT NULL)');
      const row = db.prepare('SELECT version FROM workshop_schema').get() as Row | undefined;
      const version = row ? Number(row.version) : 0;
      if (version > WORKSHOP_SCHEMA_VERSION) {
        throw new Error(`its workshop schema version ${version} is newer than this runner's ${WORKSHOP_SCHEMA_VERSION}; use a newer runner`);
      }
      for (let v = version; v < WORKSHOP_SCHEMA_VERSION; v++) {
        db.exec('BEGIN IMMEDIATE');
        try {
          db.exec(MIGRATIONS[v]!);
          db.exec('DELETE FROM workshop_schema');
          db.prepare('INSERT INTO workshop_schema (version) VALUES (?)').run(v + 1);
          db.exec('COMMIT');
        } catch (error) {
          db.exec('ROLLBACK');
          throw error;
        }
      }
      // A database from before keys were hashed: hash the keys it holds in plain text.
      for (const row of db.prepare(`SELECT id, secret FROM workshops`).all() as Row[]) {
        if (!isSecretHash(String(row.secret))) db.prepare(`UPDATE workshops SET secret = ? WHERE id = ?`).run(secretHash(String(row.secret)), String(row.id));
      }
      return new WorkshopStore(file, db);
    } catch (error) {
      db.close();
      throw new WorkshopStoreError(`The progress database ${file} cannot hold a workshop: ${(error as Error).message}`);
    }
  }

  /** The workshop that has not been closed, if any (the one a restarted runner resumes). */
  openWorkshop(): WorkshopRecord | null {
    const row = this.#s.open!.get() as Row | undefined;
    if (!row) return null;
    return {
      id: String(row.id),
      name: String(row.name),
      code: String(row.code),
      secretHash: String(row.secret),
      startedAt: Number(row.started_at),
      endsAt: row.ends_at === null ? null : Number(row.ends_at),
      locked: JSON.parse(String(row.locked)) as string[],
    };
  }

  /** Closes any open workshop (its learners and progress stay, for the record) and starts this one. */
  startWorkshop(record: WorkshopRecord): void {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      this.#s.close!.run(record.startedAt);
      this.#s.insert!.run(record.id, record.name, record.code, record.secretHash, record.startedAt, record.endsAt, JSON.stringify(record.locked));
      this.#db.exec('COMMIT');
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  /** A new instructor key for the workshop (its hash), the old one no longer opening anything. */
  setSecretHash(workshop: string, hash: string): void {
    this.#s.setSecret!.run(hash, workshop);
  }

  setLocked(workshop: string, locked: string[]): void {
    this.#s.setLocked!.run(JSON.stringify(locked), workshop);
  }

  learners(workshop: string): WorkshopLearnerRecord[] {
    return (this.#s.learners!.all(workshop) as Row[]).map((row) => ({
      learner: String(row.learner),
      seat: String(row.seat),
      name: String(row.name),
      joinedAt: Number(row.joined_at),
      lastSeenAt: Number(row.last_seen_at),
    }));
  }

  addLearner(workshop: string, record: WorkshopLearnerRecord): void {
    this.#s.addLearner!.run(record.learner, workshop, record.seat, record.name, record.joinedAt, record.lastSeenAt);
  }

  rename(learner: string, name: string): void {
    this.#s.rename!.run(name, learner);
  }

  seen(learner: string, at: number): void {
    this.#s.seen!.run(at, learner);
  }

  addNotice(workshop: string, notice: NoticeRecord): void {
    this.#s.addNotice!.run(notice.id, workshop, notice.learner, notice.kind, notice.text, notice.at);
  }

  /** The latest notices one learner should see (their hints and the room's messages), newest first. */
  notices(workshop: string, learner: string, limit: number): NoticeRecord[] {
    return (this.#s.notices!.all(workshop, learner, limit) as Row[]).map((row) => ({
      id: String(row.id),
      learner: row.learner === null ? null : String(row.learner),
      kind: row.kind === 'hint' ? 'hint' : 'broadcast',
      text: String(row.text),
      at: Number(row.at),
    }));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
