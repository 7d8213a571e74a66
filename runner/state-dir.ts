// Where the runner keeps its state (progress.db, workshop.db, learners' local homes) unless told
// otherwise: outside the checkout, so that nothing a learner's sandbox can see of the checkout
// holds it; /var/lib/dual-tor-course for root, $XDG_STATE_HOME/dual-tor-course (by default
// ~/.local/state/dual-tor-course) for anyone else. The directory is the runner's alone (0700) and
// its databases are 0600: the instructor's key and every learner's progress are in them.

import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

const NAME = 'dual-tor-course';

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): string {
  if (uid === 0) return path.join('/var/lib', NAME);
  const base = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(env.HOME || homedir(), '.local', 'state');
  return path.join(base, NAME);
}

/** Makes the state directory, 0700 (its parents as usual); one that exists is left as its owner set it. */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** A database file and its SQLite companions (-wal, -shm, -journal) readable by the runner alone. */
export function makePrivate(file: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) {
    if (existsSync(file + suffix)) chmodSync(file + suffix, 0o600);
  }
}
