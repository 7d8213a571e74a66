// Screenshots of the course as a learner sees it, for the README and docs/: every lesson page with
// its first step run, and lesson 5 caught up and in the middle of a TOR failure.
//
//   node scripts/docs-screenshots.ts URL [OUT_DIR]
//
// URL is a running course on the lab target (`npm start`); OUT_DIR defaults to docs/. Each lesson
// is opened by a new learner (a fresh browser context), so every one gets its own lab.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
/** The flags this machine's closed network needs (no background connections) and root needs. */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const VIEWPORT = { width: 1440, height: 900 };
/** A lab comes up and a block runs well within this; catching up to lesson 5 takes longer. */
const STEP_TIMEOUT_MS = 60_000;
const CATCH_UP_TIMEOUT_MS = 240_000;

const [url, out = 'docs'] = process.argv.slice(2);
if (!url) {
  console.error('usage: node scripts/docs-screenshots.ts URL [OUT_DIR]  (URL of a course running on the lab target)');
  process.exit(2);
}
fs.mkdirSync(out, { recursive: true });

/** Clicks each Run of a step in order, waiting for each block to settle, then for the step. */
async function runStep(page: Page, stepId: string): Promise<void> {
  const blocks = page.locator(`run-block[data-step="${stepId}"]`);
  for (let i = 0; i < (await blocks.count()); i += 1) {
    const block = blocks.nth(i);
    await block.scrollIntoViewIfNeeded();
    await block.locator('[data-action="run"]').click();
    await page.waitForFunction(
      ([id, n]) => ['passed', 'failed'].includes(document.querySelectorAll(`run-block[data-step="${id}"]`)[n]?.getAttribute('data-state') ?? ''),
      [stepId, i] as const,
      { timeout: STEP_TIMEOUT_MS },
    );
  }
  await page.waitForFunction(
    (id) => [...document.querySelectorAll(`.state-check[data-step="${id}"]`)].every((c) => c.getAttribute('data-state') === 'passed'),
    stepId,
    { timeout: STEP_TIMEOUT_MS },
  );
}

/** What a learner opening a later lesson first would do: run the earlier lessons' steps. */
async function catchUp(page: Page): Promise<void> {
  const button = page.locator('[data-action="catch-up"]');
  if ((await button.count()) === 0) return;
  await button.click();
  await page.locator('catch-up-bar[data-state="passed"]').waitFor({ timeout: CATCH_UP_TIMEOUT_MS });
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
try {
  const home = await browser.newPage({ viewport: VIEWPORT });
  await home.goto(url);
  const lessons = await home.locator('a[href*="/lessons/"]').evaluateAll((links) => [...new Set(links.map((a) => (a as HTMLAnchorElement).pathname))]);
  await home.screenshot({ path: path.join(out, 'home.png') });
  await home.context().close();

  for (const lesson of lessons) {
    const context = await browser.newContext({ viewport: VIEWPORT });
    const page = await context.newPage();
    await page.goto(new URL(lesson, url).href);
    await catchUp(page);
    const first = await page.locator('run-block').first().getAttribute('data-step');
    if (first) await runStep(page, first);
    const name = path.basename(lesson.replace(/\/$/, ''));
    await page.screenshot({ path: path.join(out, `${name}.png`) });
    console.log(`${name}.png`);
    await context.close();
  }

  // The hero: lesson 5, caught up, leaf10 failed by link and the fabric routed around it.
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  const lesson5 = lessons.find((l) => l.includes('05-'));
  if (lesson5) {
    await page.goto(new URL(lesson5, url).href);
    await catchUp(page);
    for (const step of ['05-fail-a-tor/baseline', '05-fail-a-tor/fail-link']) await runStep(page, step);
    await page.locator('text=Routed around').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(out, 'lesson.png') });
    console.log('lesson.png');
  }
  await context.close();
} finally {
  await browser.close();
}
