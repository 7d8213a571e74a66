// Bad frames over a real WebSocket: each gets an `error` frame saying what was wrong, and the
// socket stays open and usable. Only a frame above the transport's hard cap closes it.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_CONTROL_FRAME_BYTES, MAX_INPUT_FRAME_BYTES, PROTOCOL_VERSION, type ServerMessage } from '../../runner/protocol.ts';
import { WEBSOCKET_MAX_PAYLOAD_BYTES } from '../../runner/server.ts';
import { LESSON, newLearner, startFixture, TestPage, type Fixture } from './runner-harness.ts';

type ErrorFrame = Extract<ServerMessage, { type: 'error' }>;

describe('runner frame handling', () => {
  let fixture: Fixture;
  let auth: { cookie: string; token: string };
  before(async () => {
    fixture = await startFixture();
    auth = await newLearner(fixture.runner);
  });
  after(async () => {
    await fixture?.dispose();
  });

  async function nextError(page: TestPage, send: () => void): Promise<ErrorFrame> {
    const from = page.messages.length;
    send();
    return (await page.waitFor((m) => m.type === 'error', 'an error frame', from)) as ErrorFrame;
  }

  it('answers messages before hello with not-ready, and a wrong protocol or lesson with their codes', async () => {
    const page = await TestPage.connect(fixture.runner, auth);
    try {
      const early = await nextError(page, () => page.send({ type: 'open', terminal: 'main', size: { cols: 80, rows: 24 } }));
      assert.deepEqual(early, { type: 'error', code: 'not-ready', message: '"open" before "hello": send hello with the protocol version and lesson first' });
      const version = await nextError(page, () => page.send({ type: 'hello', protocol: PROTOCOL_VERSION + 1, lesson: LESSON }));
      assert.equal(version.code, 'protocol-version');
      assert.equal(version.message, `page speaks protocol ${PROTOCOL_VERSION + 1}, this runner speaks ${PROTOCOL_VERSION}; reload the page`);
      const lesson = await nextError(page, () => page.send({ type: 'hello', protocol: PROTOCOL_VERSION, lesson: 'nope' }));
      assert.deepEqual(lesson, { type: 'error', code: 'unknown-lesson', message: `Unknown lesson "nope"; this course has: ${LESSON}`, ref: 'nope' });
    } finally {
      await page.close();
    }
  });

  it('answers every bad frame with an error frame and keeps working', async () => {
    const page = await TestPage.open(fixture.runner, auth);
    try {
      const notJson = await nextError(page, () => page.sendRaw('{oops'));
      assert.equal(notJson.code, 'bad-frame');
      assert.match(notJson.message, /^frame is not JSON: /);

      const unknown = await nextError(page, () => page.send({ type: 'explode' }));
      assert.equal(unknown.code, 'bad-frame');
      assert.match(unknown.message, /^invalid frame: type: /);

      const range = await nextError(page, () => page.send({ type: 'ack', channel: 999, bytes: 1 }));
      assert.match(range.message, /^invalid frame: channel: /);

      const terminal = await nextError(page, () => page.send({ type: 'open', terminal: 'leaf3', size: { cols: 80, rows: 24 } }));
      assert.deepEqual(terminal, { type: 'error', code: 'unknown-terminal', message: `Unknown terminal "leaf3"; lesson "${LESSON}" opens: main, side`, ref: 'leaf3' });

      const emptyBinary = await nextError(page, () => page.sendRaw(Buffer.alloc(0)));
      assert.equal(emptyBinary.code, 'bad-frame');
      assert.match(emptyBinary.message, /^empty binary frame/);

      const noChannel = await nextError(page, () => page.input(9, 'ls\r'));
      assert.deepEqual(noChannel, { type: 'error', code: 'bad-frame', message: 'input for channel 9, which has no open terminal; open one first' });

      const bigText = 'x'.repeat(MAX_CONTROL_FRAME_BYTES + 10);
      const tooLarge = await nextError(page, () => page.sendRaw(bigText));
      assert.deepEqual(tooLarge, { type: 'error', code: 'frame-too-large', message: `frame of ${bigText.length} bytes exceeds the limit of ${MAX_CONTROL_FRAME_BYTES}` });

      const channel = await page.openTerminal('main');
      const bigInput = await nextError(page, () => page.input(channel, 'y'.repeat(MAX_INPUT_FRAME_BYTES + 1)));
      assert.equal(bigInput.code, 'frame-too-large');

      // Still usable.
      const from = page.messages.length;
      page.send({ type: 'run', block: `${LESSON}/exit/1` });
      assert.equal((await page.blockDone(`${LESSON}/exit/1`, from)).state, 'passed');
    } finally {
      await page.close();
    }
  });

  it('closes the socket (1009) only for a frame above the transport cap', async () => {
    const page = await TestPage.open(fixture.runner, auth);
    const closed = new Promise<number>((resolve) => page.ws.once('close', (code) => resolve(code)));
    page.sendRaw('z'.repeat(WEBSOCKET_MAX_PAYLOAD_BYTES + 1));
    assert.equal(await closed, 1009);
  });
});
