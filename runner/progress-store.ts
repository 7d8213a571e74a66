// Learners' step and block states, in SQLite (`node:sqlite`) at STATE/progress.db, keyed by learner.
// The schema is versioned with `PRAGMA user_version` and migrated forward at open, in a transaction;
// a database that cannot be opened, read or written, or that a newer runner made, is a startup
// error that names the file, never a silent fresh start that would lose progress.

import path from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { ensurePrivateDir, makePrivate } from './state-dir.ts';
import {
  blockStatusSchema,
  checkResultSchema,
  type BlockStatus,
  type CheckResult,
  type StepStatus,
} from './protocol.ts';
import { z } from 'zod';

/** Each entry moves the schema from version index to index + 1. Never edit one that shipped. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE learners (
     id TEXT PRIMARY KEY,
     created_at INTEGER NOT NULL,
     last_seen_at INTEGER NOT NULL
   );
   CREATE TABLE step_states (
     learner TEXT NOT NULL REFERENCES learners(id) ON DELETE CASCADE,
     step TEXT NOT NULL,
     state TEXT NOT NULL,
     results TEXT NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (learner, step)
   );
   CREATE TABLE block_states (
     learner TEXT NOT NULL REFERENCES learners(id) ON DELETE CASCADE,
     block TEXT NOT NULL,
     state TEXT NOT NULL,
     exit_code INTEGER,
     duration_ms REAL,
     results TEXT NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (learner, block)
   );`,
  // Browsers admitted with the runner's start key (see runner/server.ts): a learner cookie alone,
  // which any local account can get, is no session.
  `CREATE TABLE admitted_learners (
     learner TEXT PRIMARY KEY,
     admitted_at INTEGER NOT NULL
   );`,
  // Each terminal's screen as the learner last saw it (runner/screen-keeper.ts), so that a runner
  // killed with SIGKILL shows it again after a restart; `running` is the command that was running.
  `CREATE TABLE screens (
     learner TEXT NOT NULL,
     terminal TEXT NOT NULL,
     screen TEXT NOT NULL,
     running TEXT,
     saved_at INTEGER NOT NULL,
     PRIMARY KEY (learner, terminal)
   );`,
];

export const PROGRESS_DB_FILE = 'progress.db';
export const SCHEMA_VERSION = MIGRATIONS.length;

const resultsSchema = z.array(checkResultSchema);

/** A terminal's screen as serialized by the runner's mirror, and the command running then. */
export type SavedScreen = { screen: string; running?: string };

export class ProgressStoreError extends Error {
  override name = 'ProgressStoreError';
}

type Row = Record<string, unknown>;

export class ProgressStore {
  readonly file: string;
  readonly #db: DatabaseSync;
  readonly #statements: Record<string, StatementSync>;
  #closed = false;

  private constructor(file: string, db: DatabaseSync) {
    this.file = file;
    this.#db = db;
    const prepare = (sql: string) => db.prepare(sql);
    this.#statements = {
      touchLearner: prepare(
        `INSERT INTO learners (id, created_at, last_seen_at) VALUES (?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET last_seen_at = excluded.last_seen_at`,
      ),
      putStep: prepare(
        `INSERT INTO step_states (learner, step, state, results, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (learner, step) DO UPDATE SET state = excluded.state, results = excluded.results, updated_at = excluded.updated_at`,
      ),
      putBlock: prepare(
        `INSERT INTO block_states (learner, block, state, exit_code, duration_ms, results, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (learner, block) DO UPDATE SET state = excluded.state, exit_code = excluded.exit_code,
           duration_ms = excluded.duration_ms, results = excluded.results, updated_at = excluded.updated_at`,
      ),
      steps: prepare(`SELECT step, state, results, updated_at FROM step_states WHERE learner = ? ORDER BY step`),
      blocks: prepare(`SELECT block, state, exit_code, duration_ms, results, updated_at FROM block_states WHERE learner = ? ORDER BY block`),
      deleteSteps: prepare(`DELETE FROM step_states WHERE learner = ? AND step LIKE ? ESCAPE '\\'`),
      deleteBlocks: prepare(`DELETE FROM block_states WHERE learner = ? AND block LIKE ? ESCAPE '\\'`),
      putScreen: prepare(
        `INSERT INTO screens (learner, terminal, screen, running, saved_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (learner, terminal) DO UPDATE SET screen = excluded.screen, running = excluded.running, saved_at = excluded.saved_at`,
      ),
      screen: prepare(`SELECT screen, running FROM screens WHERE learner = ? AND terminal = ?`),
      deleteScreen: prepare(`DELETE FROM screens WHERE learner = ? AND terminal = ?`),
      deleteScreens: prepare(`DELETE FROM screens WHERE learner = ?`),
      admit: prepare(`INSERT INTO admitted_learners (learner, admitted_at) VALUES (?, ?) ON CONFLICT (learner) DO NOTHING`),
      admitted: prepare(`SELECT 1 AS yes FROM admitted_learners WHERE learner = ?`),
    };
  }

  /** Opens (creating if needed) STATE_DIR/progress.db and migrates it; throws ProgressStoreError. */
  static open(stateDir: string): ProgressStore {
    const file = path.join(stateDir, PROGRESS_DB_FILE);
    try {
      ensurePrivateDir(stateDir);
    } catch (error) {
      throw new ProgressStoreError(`Cannot create the state directory ${stateDir}: ${(error as Error).message}`);
    }
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(file);
      makePrivate(file);
    } catch (error) {
      throw new ProgressStoreError(`Cannot open the progress database ${file}: ${(error as Error).message}`);
    }
    try {
      db.exec('PRAGMA foreign_keys = ON');
      const check = db.prepare('PRAGMA quick_check').get() as Row | undefined;
      if (!check || check.quick_check !== 'ok') {
        throw new Error(`integrity check says ${JSON.stringify(check?.quick_check ?? 'nothing')}`);
      }
      const version = Number((db.prepare('PRAGMA user_version').get() as Row).user_version);
      if (version > SCHEMA_VERSION) {
        throw new Error(`its schema version ${version} is newer than this runner's ${SCHEMA_VERSION}; use a newer runner`);
      }
      for (let v = version; v < SCHEMA_VERSION; v++) {
        db.exec('BEGIN IMMEDIATE');
        try {
          db.exec(MIGRATIONS[v]!);
          db.exec(`PRAGMA user_version = ${v + 1}`);
          db.exec('COMMIT');
        } catch (error) {
          db.exec('ROLLBACK');
          throw error;
        }
      }
      // WAL: readers do not wait for the writer; a write survives a runner crash once committed.
      db.exec('PRAGMA journal_mode = WAL');
      // Proves the file is writable now rather than at the first learner's first step.
      db.exec('BEGIN IMMEDIATE; COMMIT');
      return new ProgressStore(file, db);
    } catch (error) {
      db.close();
      throw new ProgressStoreError(
        `The progress database ${file} is unusable: ${(error as Error).message}. ` +
          'It is left as it is; move it away to start with empty progress, or restore it from a backup.',
      );
    }
  }

  /** Records that this learner's browser showed the start key; it stays admitted across restarts. */
  admit(learner: string, now = Date.now()): void {
    this.#statements.admit!.run(learner, now);
  }

  isAdmitted(learner: string): boolean {
    return this.#statements.admitted!.get(learner) !== undefined;
  }

  touchLearner(learner: string, now = Date.now()): void {
    this.#statements.touchLearner!.run(learner, now, now);
  }

  putStep(learner: string, status: StepStatus, now = Date.now()): void {
    this.touchLearner(learner, now);
    this.#statements.putStep!.run(learner, status.step, status.state, JSON.stringify(status.results), now);
  }

  putBlock(learner: string, status: BlockStatus, now = Date.now()): void {
    this.touchLearner(learner, now);
    this.#statements.putBlock!.run(
      learner,
      status.block,
      status.state,
      status.exitCode ?? null,
      status.durationMs ?? null,
      JSON.stringify(status.results),
      now,
    );
  }

  steps(learner: string): StepStatus[] {
    return (this.#statements.steps!.all(learner) as Row[]).map((row) => ({
      step: String(row.step),
      state: row.state as StepStatus['state'],
      results: parseResults(row.results),
      updatedAt: Number(row.updated_at),
    }));
  }

  blocks(learner: string): BlockStatus[] {
    return (this.#statements.blocks!.all(learner) as Row[]).map((row) =>
      blockStatusSchema.parse({
        block: String(row.block),
        state: row.state,
        exitCode: row.exit_code === null ? undefined : Number(row.exit_code),
        durationMs: row.duration_ms === null ? undefined : Number(row.duration_ms),
        results: parseResults(row.results),
      }),
    );
  }

  /** Keeps a terminal's screen (serialized) and the command running in it, replacing the last one. */
  putScreen(learner: string, terminal: string, saved: SavedScreen, now = Date.now()): void {
    this.#statements.putScreen!.run(learner, terminal, saved.screen, saved.running ?? null, now);
  }

  /** A terminal's kept screen, if its shell was not ended by the runner (a crash). */
  screen(learner: string, terminal: string): SavedScreen | undefined {
    const row = this.#statements.screen!.get(learner, terminal) as Row | undefined;
    if (!row) return undefined;
    return { screen: String(row.screen), ...(row.running === null ? {} : { running: String(row.running) }) };
  }

  /** Forgets one terminal's screen, or with no terminal every screen of the learner (their shells ended). */
  deleteScreens(learner: string, terminal?: string): void {
    if (terminal === undefined) this.#statements.deleteScreens!.run(learner);
    else this.#statements.deleteScreen!.run(learner, terminal);
  }

  /** Forgets a learner's steps and blocks of one lesson. */
  resetLesson(learner: string, lesson: string): void {
    this.#forget(learner, `${lesson.replace(/[\\%_]/g, (c) => `\\${c}`)}/%`);
  }

  /** Forgets every step and block state of a learner (their admission and name stay). */
  resetProgress(learner: string): void {
    this.#forget(learner, '%');
  }

  /** Deletes the learner's step and block states whose ids match a LIKE pattern. */
  #forget(learner: string, prefix: string): void {
    this.#db.exec('BEGIN');
    try {
      this.#statements.deleteSteps!.run(learner, prefix);
      this.#statements.deleteBlocks!.run(learner, prefix);
      this.#db.exec('COMMIT');
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}

function parseResults(value: unknown): CheckResult[] {
  const parsed = resultsSchema.safeParse(JSON.parse(String(value)));
  return parsed.success ? parsed.data : [];
}
