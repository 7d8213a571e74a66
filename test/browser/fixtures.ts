// The browser tests' fixtures: a lesson page helper, and an automatic fixture that attaches every
// terminal's text and the end of the runner's log when a test fails.

import fs from 'node:fs';
import path from 'node:path';
import { test as base, expect, type Locator, type Page } from '@playwright/test';
import { admitContext } from '../support/start-key.ts';

/** The end of the runner log worth reading next to a failure. */
const LOG_TAIL_BYTES = 16 * 1024;

export class LessonPage {
  readonly page: Page;
  constructor(page: Page) {
    this.page = page;
  }

  async open(lesson: string): Promise<void> {
    await this.page.goto(`/lessons/${lesson}/`);
    await expect(this.page.locator('connection-status')).toHaveAttribute('data-state', 'connected');
  }

  block(id: string): Locator {
    return this.page.locator(`run-block[data-block="${id}"]`);
  }

  step(id: string): Locator {
    return this.page.locator(`lesson-step[data-step="${id}"]`);
  }

  /** The text of a terminal as xterm drew it. */
  terminalText(name: string): Promise<string> {
    return this.page.evaluate((terminal) => (window as unknown as { courseTerminalText(name: string): string }).courseTerminalText(terminal), name);
  }

  /** A terminal's size in cells, as xterm fitted it (and sent it to the shell). */
  terminalSize(name: string): Promise<{ cols: number; rows: number } | undefined> {
    return this.page.evaluate((terminal) => (window as unknown as { courseTerminalSize(name: string): { cols: number; rows: number } | undefined }).courseTerminalSize(terminal), name);
  }

  terminalNames(): Promise<string[]> {
    return this.page.locator('[data-terminal-screen]').evaluateAll((elements) => elements.map((element) => element.getAttribute('data-terminal-screen') ?? ''));
  }
}

export const test = base.extend<{ lesson: LessonPage; failureContext: void }>({
  // Every test's browser is admitted with the runner's start key before its first page.
  context: async ({ context, baseURL }, use) => {
    await admitContext(context, baseURL!);
    await use(context);
  },
  lesson: async ({ page }, use) => {
    await use(new LessonPage(page));
  },
  failureContext: [
    async ({ page }, use, testInfo) => {
      await use();
      if (testInfo.status === testInfo.expectedStatus) return;
      const lesson = new LessonPage(page);
      const names = await lesson.terminalNames().catch(() => []);
      for (const name of names) {
        const text = await lesson.terminalText(name).catch((error: Error) => `(could not read the terminal: ${error.message})`);
        await testInfo.attach(`terminal ${name}`, { body: text, contentType: 'text/plain' });
      }
      const log = path.join(process.env.COURSE_TEST_STATE ?? '', 'runner.log');
      if (fs.existsSync(log)) {
        const content = fs.readFileSync(log);
        await testInfo.attach('runner log (end)', { body: content.subarray(Math.max(0, content.length - LOG_TAIL_BYTES)), contentType: 'text/plain' });
      }
    },
    { auto: true },
  ],
});

export { expect };
