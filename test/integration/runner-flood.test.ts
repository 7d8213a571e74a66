// A flood (`yes | head -c`) stays bounded: a page that stops acknowledging pauses the pty, acks
// resume it, and with no page attached the headless mirror paces it. Asserted on byte counts the
// runner holds, never on time.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { FLOW_HIGH_WATERMARK_BYTES } from '../../runner/protocol.ts';
import { FLOOD_BYTES, LESSON, newLearner, pollUntil, startFixture, TestPage, type Fixture } from './runner-harness.ts';

/** One read from the pty (node-pty reads up to 64 KiB) may land after the pause: allow a few. */
const READ_SLACK_BYTES = 256 * 1024;
const BOUND = FLOW_HIGH_WATERMARK_BYTES + READ_SLACK_BYTES;

describe('runner flood', () => {
  let fixture: Fixture | undefined;
  const pages: TestPage[] = [];
  after(async () => {
    for (const page of pages) await page.close();
    await fixture?.dispose();
  });

  it('pauses the pty for a page that stops acking, resumes on acks, and lets the mirror pace it with no page', async () => {
    fixture = await startFixture();
    const auth = await newLearner(fixture.runner);
    const page = await TestPage.open(fixture.runner, auth, { autoAck: false });
    pages.push(page);
    const channel = await page.openTerminal('main');
    const learner = fixture.runner.learners.get(auth.learner)!;
    const terminal = learner.terminal('main')!;
    page.send({ type: 'run', block: `${LESSON}/flood/1` });

    let acked = 0;
    for (let round = 1; round <= 3; round++) {
      await pollUntil(() => terminal.paused && terminal.mirrorLagBytes === 0, `round ${round}: the pty to pause and the mirror to catch up`);
      const received = page.received.get(channel) ?? 0;
      assert.ok(received - acked <= BOUND, `round ${round}: ${received - acked} unacked bytes sent, bound ${BOUND}`);
      assert.ok(terminal.bufferedBytes <= BOUND, `round ${round}: runner holds ${terminal.bufferedBytes} bytes, bound ${BOUND}`);
      assert.ok(received < FLOOD_BYTES, 'the flood did not run to its end unacknowledged');
      assert.equal(terminal.atPrompt, false, 'the flood is still running');
      // The page catches up: everything so far drawn and acked.
      const at = page.received.get(channel) ?? 0;
      page.send({ type: 'ack', channel, bytes: at - acked });
      acked = at;
      await pollUntil(() => !terminal.paused || (page.received.get(channel) ?? 0) > at, `round ${round}: the pty to resume after the ack`);
    }

    // The page goes away mid-flood: the mirror alone paces the shell, which finishes the flood.
    await page.close();
    let maxHeld = 0;
    await pollUntil(() => {
      maxHeld = Math.max(maxHeld, terminal.bufferedBytes);
      return terminal.atPrompt;
    }, 'the flood to finish with no page attached', 1);
    assert.ok(maxHeld <= BOUND, `with no page the runner held at most ${maxHeld} bytes, bound ${BOUND}`);

    const again = await TestPage.open(fixture.runner, auth);
    pages.push(again);
    const welcome = again.messages[0]!;
    assert.equal(welcome.type, 'welcome');
    const block = welcome.type === 'welcome' ? welcome.blocks.find((b) => b.block === `${LESSON}/flood/1`) : undefined;
    assert.equal(block?.state, 'passed', JSON.stringify(block));
    const restored = await again.openTerminal('main');
    await again.until(() => again.output(restored).includes('flood-line-of-text'), 'the restored screen');
  });
});
