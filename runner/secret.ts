// Comparing secrets (the runner's token and start key, the instructor's key), and keeping one only
// as a hash where comparing is all that is needed (the instructor's key, in the database).

import { createHash, timingSafeEqual } from 'node:crypto';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Whether `given` is `secret`; hashed first, so the comparison has a fixed length and time. */
export function sameSecret(given: string | null | undefined, secret: string): boolean {
  if (given === null || given === undefined) return false;
  return timingSafeEqual(digest(given), digest(secret));
}

const HASH_PREFIX = 'sha256:';

/** What is stored of a secret that is only ever compared: `sha256:` and its hex digest. */
export function secretHash(secret: string): string {
  return `${HASH_PREFIX}${digest(secret).toString('hex')}`;
}

export function isSecretHash(value: string): boolean {
  return /^sha256:[0-9a-f]{64}$/.test(value);
}

/** Whether `given` is the secret whose hash is `hash`, in constant time. */
export function matchesSecretHash(given: string | null | undefined, hash: string): boolean {
  if (given === null || given === undefined || !isSecretHash(hash)) return false;
  return timingSafeEqual(digest(given), Buffer.from(hash.slice(HASH_PREFIX.length), 'hex'));
}
