import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { restartNote, SAVE_AFTER_QUIET_MS, SAVE_EVERY_MS, ScreenKeeper } from './screen-keeper.ts';

/** Lets the snapshot promise and the save after it run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('ScreenKeeper', () => {
  it('saves once the output has been quiet, and at least every SAVE_EVERY_MS while it keeps coming', async () => {
    mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    try {
      const saves: string[] = [];
      let screen = 0;
      const keeper = new ScreenKeeper(async () => ({ screen: `screen ${++screen}` }), (saved) => saves.push(saved.screen));
      keeper.changed();
      mock.timers.tick(SAVE_AFTER_QUIET_MS - 1);
      await settle();
      assert.deepEqual(saves, [], 'not while output may still come');
      mock.timers.tick(1);
      await settle();
      assert.deepEqual(saves, ['screen 1']);

      // Output every half second never goes quiet; it is saved all the same.
      for (let elapsed = 0; elapsed < SAVE_EVERY_MS; elapsed += 500) {
        keeper.changed();
        mock.timers.tick(500);
        await settle();
      }
      assert.deepEqual(saves, ['screen 1', 'screen 2']);

      keeper.changed();
      keeper.dispose();
      mock.timers.tick(SAVE_EVERY_MS);
      await settle();
      assert.equal(saves.length, 2, 'nothing after dispose');
    } finally {
      mock.timers.reset();
    }
  });

  it('says the shell is new, and which command ended with the old one', () => {
    assert.equal(restartNote(undefined), '\r\n\x1b[2m[the runner restarted, so this is a new shell]\x1b[0m\r\n');
    assert.match(restartNote('sleep 500\n'), /; "sleep 500" was running and has ended\]/);
  });
});
