// A screenshot of the instructor's dashboard with a room of 50 scripted learners at different
// points of the fixture course (some stuck on a failing step, some offline), for a look at it:
//   node test/browser/workshop-screenshot.ts [SITE_DIR] [OUT_DIR]
// SITE_DIR is a built fixture course (COURSE_DIR=test/fixture-course COURSE_OUT=... astro build).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium.ts';
import { join, ScriptedLearner } from '../support/workshop-client.ts';
import { startWorkshop } from '../support/workshop-runner.ts';
import { WAIT_MS } from '../support/deadlines.ts';

const [site = '.cache/fixture-site', out = '.cache/screenshots'] = process.argv.slice(2);
const LEARNERS = 50;
const PORT = 47_391;
const FIRST = ['Ada', 'Grace', 'Linus', 'Radia', 'Vint', 'Barbara', 'Ken', 'Margaret', 'Dennis', 'Frances', 'Edsger', 'Hedy', 'Alan', 'Katherine', 'Tim', 'Sophie', 'Bjarne', 'Anita', 'Guido', 'Shafi', 'Leslie', 'Adele', 'John', 'Mary', 'Niklaus'];
const LAST = ['K.', 'H.', 'T.', 'P.', 'C.', 'L.', 'R.', 'M.', 'W.', 'A.'];

const state = fs.mkdtempSync(path.join(os.tmpdir(), 'workshop-shot-'));
fs.mkdirSync(out, { recursive: true });
const workshop = await startWorkshop(['--name', 'KubeCon EU · Dual-TOR lab', '--site', site, '--port', String(PORT), '--target', 'local', '--trusted-room', '--state', state, '--unlocked', '1', '--join-burst', '100'], path.join(state, 'runner.log'));
const pages: ScriptedLearner[] = [];
try {
  const cookies: string[] = [];
  for (let i = 0; i < LEARNERS; i++) cookies.push(await join(workshop.base, workshop.code, `${FIRST[i % FIRST.length]} ${LAST[Math.floor(i / FIRST.length) + (i % 3)]}`));
  // Progress spread like a real room: most passed the first steps, a few are stuck on the third.
  await Promise.all(
    cookies.map(async (cookie, i) => {
      if (i % 9 === 8) return; // never opened a lesson (offline)
      const learner = await ScriptedLearner.connect(workshop.base, cookie, '01-first-steps');
      pages.push(learner);
      await learner.runBlock('01-first-steps/hello/1', '01-first-steps/hello', WAIT_MS);
      if (i % 4 === 3) return;
      await learner.runBlock('01-first-steps/write-notes/1', '01-first-steps/write-notes', WAIT_MS);
      if (i % 5 === 0) await learner.runBlock('01-first-steps/wrong-fruit/1', '01-first-steps/wrong-fruit', WAIT_MS);
    }),
  );
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(workshop.dashboardUrl);
    await page.locator('.wsd-row').nth(LEARNERS - 1).waitFor();
    await page.screenshot({ path: path.join(out, 'workshop-dashboard.png') });
    await page.locator('.wsd-row', { has: page.locator('.wsd-failure__text') }).first().click();
    await page.locator('[data-action="watch"]').click();
    await page.locator('[data-role="watch-status"][data-state="live"]').waitFor();
    await page.screenshot({ path: path.join(out, 'workshop-dashboard-learner.png') });

    // What a learner sees: the join form, a locked lesson on the home page, a hint on a lesson page.
    const learner = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await learner.goto(workshop.joinUrl);
    await learner.getByLabel('Workshop code').fill(workshop.code);
    await learner.getByLabel('Your name').fill('Zoe Screenshot');
    await learner.screenshot({ path: path.join(out, 'workshop-join.png') });
    await learner.getByRole('button', { name: 'Join' }).click();
    await learner.locator('a.lesson-card[data-locked]').first().waitFor();
    await learner.screenshot({ path: path.join(out, 'workshop-home-locked.png') });
    await learner.goto(new URL('/lessons/01-first-steps/', workshop.base).href);
    await learner.locator('connection-status[data-state="connected"]').waitFor();
    await page.locator('.wsd-row', { has: page.locator('.wsd-name', { hasText: 'Zoe Screenshot' }) }).click();
    await page.getByLabel('Hint').fill('The expected output has cherries, your file has bananas: look at step 2.');
    await page.getByRole('button', { name: 'Send hint' }).click();
    await page.getByLabel('Message to everyone').fill('Break in 5 minutes: lesson 2 opens after it.');
    await page.getByRole('button', { name: 'Send to all' }).click();
    await learner.locator('[data-role="workshop-notice"]').nth(1).waitFor();
    await learner.screenshot({ path: path.join(out, 'workshop-lesson-notices.png') });
  } finally {
    await browser.close();
  }
} finally {
  for (const p of pages) p.close();
  await workshop.stop();
  fs.rmSync(state, { recursive: true, force: true });
}
