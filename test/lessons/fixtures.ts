// Fixtures of the course check: one learner (a browser context with its own learner cookie, hence
// its own lab) kept across the lessons of a worker, so lesson N starts from the lab lessons before
// it built, as a learner's does. Each test records a trace chunk of that context, kept on failure;
// a fresh learner (the first, or a new worker after a failure) must catch up first.

import fs from 'node:fs';
import path from 'node:path';
import { test as base, expect, type BrowserContext, type Page } from '@playwright/test';
import { admitContext } from '../support/start-key.ts';

export type Learner = { context: BrowserContext; page: Page; baseURL: string; fresh: boolean };

export const test = base.extend<{ traceChunk: void }, { learner: Learner }>({
  learner: [
    async ({ browser }, use, workerInfo) => {
      const baseURL = String(workerInfo.project.use.baseURL);
      const context = await browser.newContext({ baseURL });
      await admitContext(context, baseURL);
      await context.tracing.start({ screenshots: true, snapshots: true, sources: true });
      const page = await context.newPage();
      await use({ context, page, baseURL, fresh: true });
      await context.tracing.stop();
      await context.close();
    },
    { scope: 'worker' },
  ],
  traceChunk: [
    async ({ learner }, use, testInfo) => {
      await learner.context.tracing.startChunk({ title: testInfo.title });
      await use();
      if (testInfo.status === testInfo.expectedStatus) {
        await learner.context.tracing.stopChunk();
        return;
      }
      const trace = testInfo.outputPath('trace.zip');
      await learner.context.tracing.stopChunk({ path: trace });
      await testInfo.attach('trace', { path: trace, contentType: 'application/zip' });
      const screenshot = await learner.page.screenshot({ fullPage: false }).catch(() => null);
      if (screenshot) await testInfo.attach('screenshot', { body: screenshot, contentType: 'image/png' });
    },
    { auto: true },
  ],
});

export { expect };

/** Where each lesson's time goes, for the table printed at the end (global-teardown.ts). */
export function recordTiming(entry: { lesson: string; ms: number; steps: number; passed: number; catchUpMs?: number; catchUpFailed?: boolean }): void {
  const dir = process.env.COURSE_CHECK_STATE;
  if (!dir) return;
  fs.appendFileSync(path.join(dir, 'timings.jsonl'), `${JSON.stringify(entry)}\n`);
}
