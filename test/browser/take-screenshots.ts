// Screenshots of the course pages for a look at the design:
//   node test/browser/take-screenshots.ts BASE_URL OUT_DIR
// Uses Debian's chromium, like the browser tests.

import path from 'node:path';
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';
import { WAIT_MS } from '../support/deadlines.ts';

const [base = 'http://127.0.0.1:4321/', out = '.cache/screenshots'] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
try {
  const shots: Array<{ name: string; url: string; width: number; height: number; full?: boolean }> = [
    { name: 'lesson-1', url: '/lessons/01-first-steps/', width: 1440, height: 900 },
    { name: 'lesson-2', url: '/lessons/02-two-terminals/', width: 1440, height: 900 },
    { name: 'lesson-1-narrow', url: '/lessons/01-first-steps/', width: 420, height: 860 },
    // Last, so that it shows the progress made above (one context: one learner).
    { name: 'home', url: '/', width: 1280, height: 800, full: true },
  ];
  const context = await browser.newContext();
  for (const shot of shots) {
    const page = await context.newPage();
    await page.setViewportSize({ width: shot.width, height: shot.height });
    await page.goto(new URL(shot.url, base).href);
    await page.locator('body').waitFor();
    if (process.env.RUN_FIRST && shot.name !== 'home' && !shot.name.endsWith('narrow')) {
      for (const button of await page.locator('run-block button[data-action="run"]').all()) {
        await button.click();
        await page.waitForFunction((el) => !['queued', 'running'].includes(el?.closest('run-block')?.getAttribute('data-state') ?? ''), await button.elementHandle(), { timeout: WAIT_MS });
      }
    }
    if (shot.name === 'home') await page.locator('course-progress:not([data-state="unknown"])').first().waitFor();
    await page.screenshot({ path: path.join(out, `${shot.name}.png`), fullPage: shot.full ?? false });
    const failed = page.locator('run-block[data-state="failed"]').first();
    if (shot.name === 'lesson-1' && (await failed.count()) > 0) {
      await failed.scrollIntoViewIfNeeded();
      await page.screenshot({ path: path.join(out, 'lesson-1-failed.png') });
    }
    await page.close();
  }
} finally {
  await browser.close();
}
