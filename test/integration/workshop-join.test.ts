// The workshop's join endpoint under a flood from one address: that address is refused, and the
// room is not. Its requests come from 127.0.0.2, a learner's from 127.0.0.1 (both loopback).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { WORKSHOP_JOIN_PATH } from '../../runner/protocol.ts';
import { JOIN_GLOBAL } from '../../runner/workshop/hub.ts';
import { join } from '../support/workshop-client.ts';
import { startWorkshop, type WorkshopProcess } from '../support/workshop-runner.ts';
import { REPO } from './lab-support.ts';

const PORT = 47_243;
const state = fs.mkdtempSync(path.join(os.tmpdir(), 'workshop-join-'));
let workshop: WorkshopProcess | undefined;

after(async () => {
  await workshop?.stop();
  fs.rmSync(state, { recursive: true, force: true });
});

function joinFrom(localAddress: string, base: string, code: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ code, name: 'Flood' });
    const req = request(new URL(WORKSHOP_JOIN_PATH, base), {
      method: 'POST',
      localAddress,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), Origin: base },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('one address that keeps failing to join locks out itself, not the room', async () => {
  workshop = await startWorkshop(['--name', 'Join room', '--target', 'local', '--trusted-room', '--port', String(PORT), '--state', state], path.join(state, 'runner.log'));
  const statuses: number[] = [];
  for (let i = 0; i < JOIN_GLOBAL.capacity + 10; i++) statuses.push(await joinFrom('127.0.0.2', workshop.base, 'WRONG-CODE'));
  assert.ok(statuses.includes(403), 'wrong codes are refused as such at first');
  assert.equal(statuses.at(-1), 429, 'then the flooding address is told to wait');
  const cookie = await join(workshop.base, workshop.code, 'Ada Room');
  assert.match(cookie, /^learner=[0-9a-f]+$/, 'a learner from another address still joins');
});

test('a workshop gives strangers no plain shells unless the room is trusted', () => {
  const refused = spawnSync(process.execPath, [path.join(REPO, 'runner/workshop/cli.ts'), '--name', 'Room', '--target', 'local', '--port', '0', '--state', state], { encoding: 'utf8' });
  assert.equal(refused.status, 2);
  assert.match(refused.stderr, /--target local gives every learner a shell of this account on this machine, with no sandbox; add --trusted-room only for a room/);
});
