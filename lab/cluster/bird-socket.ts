// BIRD's control socket protocol (what birdc speaks): on connect BIRD greets with `0001 BIRD x ready.`;
// each command's reply is lines `DDDD-text` (more follow), ` text` (continuation of the previous
// code) and ends with a line `DDDD text` whose code is 0000 (done) or any other final code (for
// example `0003 Reconfigured`, `8002 ...` for an error).

import { createConnection } from 'node:net';

/** calicoctl's read timeout on BIRD's socket. */
export const BIRD_TIMEOUT_MS = 2_000;

export interface BirdReply {
  /** Every line of the reply, as sent (without the greeting). */
  lines: string[];
  /** The code of the last line (0 for success of a show command, 3 for Reconfigured, ...). */
  code: number;
  /** The text of the last line. */
  message: string;
}

export class BirdSocketError extends Error {
  override name = 'BirdSocketError';
}

/** Sends one command to BIRD and collects its reply. */
export function birdCommand(socketPath: string, command: string, timeoutMs = BIRD_TIMEOUT_MS): Promise<BirdReply> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let buffer = '';
    let greeted = false;
    const lines: string[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new BirdSocketError(`BIRD did not answer "${command}" within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(new BirdSocketError(`unable to connect to BIRD socket ${socketPath}: ${error.message}`));
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (!greeted) {
          if (!line.startsWith('0001')) {
            clearTimeout(timer);
            socket.destroy();
            reject(new BirdSocketError(`unexpected greeting from BIRD: ${line}`));
            return;
          }
          greeted = true;
          socket.write(`${command}\n`);
          continue;
        }
        lines.push(line);
        const final = /^(\d{4}) (.*)$/.exec(line);
        if (final) {
          clearTimeout(timer);
          socket.end();
          resolve({ lines, code: Number(final[1]), message: final[2]! });
          return;
        }
      }
    });
  });
}

export interface BirdProtocol {
  name: string;
  proto: string;
  table: string;
  state: string;
  since: string;
  info: string;
}

/** Parses `show protocols` the way calicoctl does (1002 first row, space-prefixed further rows). */
export function parseProtocols(reply: BirdReply): BirdProtocol[] {
  const protocols: BirdProtocol[] = [];
  for (const line of reply.lines) {
    let row: string | undefined;
    if (line.startsWith('1002-')) row = line.slice(5);
    else if (line.startsWith(' ')) row = line.slice(1);
    if (row === undefined) continue;
    const columns = row.trim().split(/\s+/);
    if (columns.length < 5) continue;
    protocols.push({
      name: columns[0]!, proto: columns[1]!, table: columns[2]!, state: columns[3]!, since: columns[4]!, info: columns.slice(5).join(' '),
    });
  }
  return protocols;
}
