// Reading a JSON request body with a size limit: the runner's JSON endpoints (admission, workshop join)
// take small bodies, and one that grows past its limit is refused, not buffered.

import type { IncomingMessage } from 'node:http';

/** The body as text, or null when it is longer than `max` bytes. */
async function readBody(req: IncomingMessage, max: number): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The body parsed as JSON, or undefined when it is longer than `max` bytes or not JSON: the caller's
 * schema then refuses it as malformed, with its own message.
 */
export async function readJsonBody(req: IncomingMessage, max: number): Promise<unknown> {
  const body = await readBody(req, max);
  if (body === null) return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return undefined; // not JSON: refused by the caller's schema
  }
}
