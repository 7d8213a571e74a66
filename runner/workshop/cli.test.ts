import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WORKSHOP_CODE_ALPHABET, workshopCodeSchema, workshopDisplayNameSchema } from '../protocol.ts';
import { learnerOrigins, parseEnds } from './cli.ts';
import { newWorkshopCode } from './hub.ts';

test('--ends takes a time of day (today, or tomorrow once past) or a date and time', () => {
  const now = new Date(2026, 10, 26, 9, 0);
  assert.equal(parseEnds('17:00', now), new Date(2026, 10, 26, 17, 0).getTime());
  assert.equal(parseEnds('08:30', now), new Date(2026, 10, 27, 8, 30).getTime());
  assert.throws(() => parseEnds('25:00', now), /not a time of day/);
  assert.throws(() => parseEnds('soon', now), /HH:MM or an ISO date/);
  assert.throws(() => parseEnds('2020-01-01T10:00:00Z', now), /in the past/);
});

test('a wildcard bind allows the machine’s own addresses; a named one allows itself', () => {
  assert.deepEqual(learnerOrigins('127.0.0.1', 4321, []), []);
  assert.deepEqual(learnerOrigins('10.1.2.3', 4321, ['https://lab.example']), ['https://lab.example', 'http://10.1.2.3:4321']);
  const wildcard = learnerOrigins('0.0.0.0', 4321, []);
  assert.ok(wildcard.every((o) => o.endsWith(':4321')));
  assert.ok(!wildcard.some((o) => o.includes('127.0.0.1')), 'loopback is always allowed by the runner itself');
});

test('codes are made from the alphabet and read back however they are typed', () => {
  for (let i = 0; i < 50; i++) {
    const code = newWorkshopCode(WORKSHOP_CODE_ALPHABET);
    assert.match(code, /^[23456789A-HJKMNP-Z]{6}$/);
    assert.equal(workshopCodeSchema.parse(` ${code.slice(0, 3).toLowerCase()}-${code.slice(3)} `), code);
  }
  assert.equal(workshopCodeSchema.safeParse('ABC10O').success, false);
});

test('display names: letters of any script, digits, a little punctuation, nothing else', () => {
  assert.equal(workshopDisplayNameSchema.parse("  Zoë O'Brien  "), "Zoë O'Brien");
  assert.equal(workshopDisplayNameSchema.parse('李雷 2'), '李雷 2');
  for (const bad of ['', ' ', '<b>', 'a\u0000b', '-dash first', 'x'.repeat(41), 'emoji 🎉']) {
    assert.equal(workshopDisplayNameSchema.safeParse(bad).success, false, JSON.stringify(bad));
  }
});
