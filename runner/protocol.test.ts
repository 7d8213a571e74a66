import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeChannelFrame,
  encodeChannelFrame,
  FLOW_ACK_CHUNK_BYTES,
  FLOW_HIGH_WATERMARK_BYTES,
  FLOW_LOW_WATERMARK_BYTES,
  MAX_CONTROL_FRAME_BYTES,
  parseClientMessage,
  parseServerMessage,
  PROTOCOL_VERSION,
} from './protocol.ts';

function refused(text: string): { code: string; message: string } {
  const parsed = parseClientMessage(text);
  assert.equal(parsed.ok, false, `should refuse ${text.slice(0, 80)}`);
  if (parsed.ok) throw new Error('unreachable');
  return { code: parsed.code, message: parsed.message };
}

describe('parseClientMessage', () => {
  it('accepts every message type', () => {
    const good = [
      { type: 'hello', protocol: PROTOCOL_VERSION, lesson: 'basics' },
      { type: 'open', terminal: 'main', size: { cols: 80, rows: 24 } },
      { type: 'resize', terminal: 'main', size: { cols: 120, rows: 40 } },
      { type: 'run', block: 'basics/step/1' },
      { type: 'run', block: 'basics/step/1', interrupt: true },
      { type: 'interrupt', terminal: 'main' },
      { type: 'ack', channel: 0, bytes: 8192 },
      { type: 'reset-lesson' },
    ];
    for (const message of good) {
      const parsed = parseClientMessage(JSON.stringify(message));
      assert.ok(parsed.ok, JSON.stringify(message));
      assert.deepEqual(parsed.value, message);
    }
  });

  it('refuses text that is not JSON', () => {
    const { code, message } = refused('{"type": "hello",');
    assert.equal(code, 'bad-frame');
    assert.match(message, /^frame is not JSON: /);
  });

  it('refuses JSON that is not an object with a known type', () => {
    for (const text of ['42', '"hello"', 'null', '[]', '{}', '{"type":"explode"}', '{"type":7}']) {
      const { code, message } = refused(text);
      assert.equal(code, 'bad-frame', text);
      assert.match(message, /^invalid frame: /, text);
    }
    assert.match(refused('{"type":"explode"}').message, /^invalid frame: type: /);
  });

  it('names the field that is missing or out of range', () => {
    const cases: [unknown, RegExp][] = [
      [{ type: 'hello', lesson: 'basics' }, /protocol: /],
      [{ type: 'hello', protocol: 1.5, lesson: 'basics' }, /protocol: /],
      [{ type: 'hello', protocol: 1, lesson: 'Basics!' }, /lesson: lower-case letters, digits/],
      [{ type: 'hello', protocol: 1, lesson: '' }, /lesson: /],
      [{ type: 'open', terminal: 'main' }, /size: /],
      [{ type: 'open', terminal: 'main', size: { cols: 1, rows: 24 } }, /size\.cols: /],
      [{ type: 'open', terminal: 'main', size: { cols: 80, rows: 501 } }, /size\.rows: /],
      [{ type: 'open', terminal: '../etc', size: { cols: 80, rows: 24 } }, /terminal: /],
      [{ type: 'resize', terminal: 'main', size: { cols: '80', rows: 24 } }, /size\.cols: /],
      [{ type: 'run', block: 'just-one-part' }, /block: ids joined by "\/"/],
      [{ type: 'run', block: 'a/b/c/d' }, /block: /],
      [{ type: 'run', block: 'a/b/1', interrupt: 'yes' }, /interrupt: /],
      [{ type: 'interrupt' }, /terminal: /],
      [{ type: 'ack', channel: 256, bytes: 1 }, /channel: /],
      [{ type: 'ack', channel: -1, bytes: 1 }, /channel: /],
      [{ type: 'ack', channel: 0, bytes: 0 }, /bytes: /],
      [{ type: 'ack', channel: 0, bytes: 2 ** 31 }, /bytes: /],
    ];
    for (const [message, pattern] of cases) {
      const { code, message: text } = refused(JSON.stringify(message));
      assert.equal(code, 'bad-frame', JSON.stringify(message));
      assert.match(text, pattern, JSON.stringify(message));
    }
  });

  it('refuses frames above the size limit before parsing them', () => {
    const big = JSON.stringify({ type: 'hello', protocol: 1, lesson: 'basics', pad: 'x'.repeat(MAX_CONTROL_FRAME_BYTES) });
    const { code, message } = refused(big);
    assert.equal(code, 'frame-too-large');
    assert.equal(message, `frame of ${big.length} bytes exceeds the limit of ${MAX_CONTROL_FRAME_BYTES}`);
  });
});

describe('parseServerMessage', () => {
  it('refuses a frame the page does not understand', () => {
    const parsed = parseServerMessage(JSON.stringify({ type: 'block', status: { block: 'x', state: 'exploded' } }));
    assert.equal(parsed.ok, false);
  });
});

describe('channel frames', () => {
  it('round-trips a channel and its bytes', () => {
    const frame = encodeChannelFrame(7, new TextEncoder().encode('hi'));
    assert.deepEqual([...frame], [7, 104, 105]);
    const decoded = decodeChannelFrame(frame)!;
    assert.equal(decoded.channel, 7);
    assert.equal(new TextDecoder().decode(decoded.data), 'hi');
  });
  it('refuses a channel out of range, and an empty frame carries none', () => {
    assert.throws(() => encodeChannelFrame(256, new Uint8Array()), /channel must be an integer from 0 to 255, got 256/);
    assert.equal(decodeChannelFrame(new Uint8Array()), null);
  });
});

describe('flow-control constants', () => {
  it('keep their invariant: LOW < HIGH and an ack chunk fits between them', () => {
    assert.ok(FLOW_LOW_WATERMARK_BYTES < FLOW_HIGH_WATERMARK_BYTES);
    assert.ok(FLOW_ACK_CHUNK_BYTES < FLOW_HIGH_WATERMARK_BYTES - FLOW_LOW_WATERMARK_BYTES);
  });
});
