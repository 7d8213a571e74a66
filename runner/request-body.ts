// Reading a request body with a size limit: the runner's JSON endpoints (admission, workshop join)
// take small bodies, and one that grows past its limit is refused, not buffered.

import type { IncomingMessage } from 'node:http';

/** The body as text, or null when it is longer than `max` bytes. */
export async function readBody(req: IncomingMessage, max: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
