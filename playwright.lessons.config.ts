// The course check (`npm run test:lessons`): every lesson of the course walked in Debian's chromium
// as a learner would (test/lessons/course.spec.ts), against the course built into .cache and
// served by a runner on its target: the real course (`lessons/`) on the lab target by default;
// COURSE_CHECK_DIR and COURSE_CHECK_TARGET choose another (e.g. test/fixture-course on local).
// A second runner serves the deliberately broken course on the local target, to prove the check
// fails on each break with the step named (test/lessons/broken-course.spec.ts).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './test/browser/chromium.ts';
import { LAB_WAIT_MS, WAIT_MS } from './test/support/deadlines.ts';
import { testStartKey } from './test/support/start-key.ts';

/** Next to the browser tests' port (47213), unlikely to be taken; the runner fails loudly if it is. */
const COURSE_PORT = Number(process.env.COURSE_CHECK_PORT ?? 47_231);
const BROKEN_PORT = COURSE_PORT + 1;
const COURSE_DIR = process.env.COURSE_CHECK_DIR ?? 'lessons';
const TARGET = process.env.COURSE_CHECK_TARGET ?? 'lab';
const COURSE_SITE = COURSE_DIR === 'lessons' ? '.cache/course-site' : `.cache/${path.basename(COURSE_DIR)}-site`;
const BROKEN_SITE = '.cache/broken-course-site';
// Loaded by the main process and by each worker; the workers inherit these, so all agree.
// test/lessons/global-teardown.ts prints the timings and removes the directory.
process.env.COURSE_CHECK_STATE ??= fs.mkdtempSync(path.join(os.tmpdir(), 'course-check-browser-'));
process.env.COURSE_CHECK_DIR = COURSE_DIR;
const STATE = process.env.COURSE_CHECK_STATE;
// Sandboxes of this run are told apart from any other lab on the machine (lab list).
const LAB_PREFIX = `pwc-${process.pid}`.slice(0, 16);

const build = (course: string, site: string) =>
  `COURSE_DIR=${course} COURSE_OUT=${site} ASTRO_TELEMETRY_DISABLED=1 sh scripts/with-node.sh node_modules/.bin/astro build --silent && ` +
  `sh scripts/with-node.sh node runner/validate-manifest.ts ${site}/course-manifest.json`;

// Both runners take this start key from the environment, which their webServer commands inherit.
testStartKey();

export default defineConfig({
  testDir: 'test/lessons',
  testMatch: '*.spec.ts',
  forbidOnly: !!process.env.CI,
  retries: 0,
  // The course spec walks lessons in order as one learner: one worker, in file order.
  workers: 1,
  fullyParallel: false,
  timeout: LAB_WAIT_MS,
  expect: { timeout: WAIT_MS },
  reporter: process.env.CI ? [['list']] : [['list'], ['html', { open: 'never', outputFolder: 'playwright-report-lessons' }]],
  outputDir: 'test-results/lessons',
  globalTeardown: './test/lessons/global-teardown.ts',
  use: {
    browserName: 'chromium',
    launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
    // The learner's context lives across tests (test/lessons/fixtures.ts), which records its
    // trace chunk per test and attaches it, with a screenshot, when the test fails.
    trace: 'off',
    screenshot: 'off',
  },
  projects: [
    { name: 'broken-course', testMatch: 'broken-course.spec.ts', use: { baseURL: `http://127.0.0.1:${BROKEN_PORT}/` } },
    { name: 'course', testMatch: 'course.spec.ts', use: { baseURL: `http://127.0.0.1:${COURSE_PORT}/` } },
    // A learner of their own, on the same runner: Catch up into the last lesson from a fresh lab.
    { name: 'catch-up', testMatch: 'catch-up.spec.ts', use: { baseURL: `http://127.0.0.1:${COURSE_PORT}/` } },
  ],
  webServer: [
    {
      // Built one after the other (webServers start in order): two astro builds at once would
      // share Astro's content cache.
      command: `${build('test/broken-course', BROKEN_SITE)} && exec sh scripts/with-node.sh node runner/main.ts --site ${BROKEN_SITE} --port ${BROKEN_PORT} --state "${STATE}/broken" --target local 2>>"${STATE}/broken-runner.log"`,
      url: `http://127.0.0.1:${BROKEN_PORT}/`,
      reuseExistingServer: false,
      timeout: LAB_WAIT_MS,
      stdout: 'pipe',
      stderr: 'pipe',
      gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
    },
    {
      command:
        `${build(COURSE_DIR, COURSE_SITE)} && exec sh scripts/with-node.sh node runner/main.ts --site ${COURSE_SITE} --port ${COURSE_PORT} ` +
        `--state "${STATE}/course" --target ${TARGET}${TARGET === 'lab' ? ` --lab-prefix ${LAB_PREFIX}` : ''} 2>>"${STATE}/course-runner.log"`,
      url: `http://127.0.0.1:${COURSE_PORT}/`,
      reuseExistingServer: false,
      timeout: LAB_WAIT_MS,
      stdout: 'pipe',
      stderr: 'pipe',
      // `lab down` of every sandbox the run made: bounded by the lab's own graceful stop.
      gracefulShutdown: { signal: 'SIGTERM', timeout: 60_000 },
    },
  ],
});
