// Browser tests: the fixture course built into .cache/fixture-site and served by the runner on a
// fixed loopback port, with a fresh state directory per run, driven through Debian's chromium.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './test/browser/chromium.ts';
import { testStartKey } from './test/support/start-key.ts';
import { LAB_WAIT_MS, WAIT_MS } from './test/support/deadlines.ts';
import { LAB_PORT, LAB_RUNNER_URL, PORT, scriptedLabDir } from './test/browser/servers.ts';

const SITE_DIR = '.cache/fixture-site';
// The config is loaded by the main process and again by each worker; the workers inherit this
// variable, so everyone agrees on one directory. test/browser/global-teardown.ts removes it.
process.env.COURSE_TEST_STATE ??= fs.mkdtempSync(path.join(os.tmpdir(), 'course-browser-'));
const STATE_DIR = process.env.COURSE_TEST_STATE;
const RUNNER_LOG = path.join(STATE_DIR, 'runner.log');
/** The scripted lab the topology view is shown (test/browser/topology-feed.ts): per learner, from files the tests write. */
const TOPOLOGY_FEED = `sh ${path.resolve('scripts/with-node.sh')} node ${path.resolve('test/browser/topology-feed.ts')} ${path.join(STATE_DIR, 'topology-feed')}`;

export default defineConfig({
  testDir: 'test/browser',
  testMatch: '*.spec.ts',
  forbidOnly: !!process.env.CI,
  retries: 0,
  // Every test is its own learner (own browser context, own cookie), so files can run in parallel.
  fullyParallel: true,
  workers: process.env.CI ? 2 : undefined,
  timeout: 2 * WAIT_MS,
  expect: { timeout: WAIT_MS },
  reporter: process.env.CI ? [['list']] : [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  globalTeardown: './test/browser/global-teardown.ts',
  use: {
    baseURL: `http://127.0.0.1:${PORT}/`,
    browserName: 'chromium',
    launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  // Started in order: the second runner serves the site the first one's command built.
  webServer: [{
    // The fixture course with local shells. Build it and validate its manifest as `npm run build` does, then replace the
    // shell with the runner so that SIGTERM reaches it.
    command:
      `sh scripts/with-node.sh astro build --silent && ` +
      `sh scripts/with-node.sh node runner/validate-manifest.ts ${SITE_DIR}/course-manifest.json && ` +
      `exec sh scripts/with-node.sh node runner/main.ts --site ${SITE_DIR} --port ${PORT} --state "${STATE_DIR}" --target local --topology-command '${TOPOLOGY_FEED}' 2>>"${RUNNER_LOG}"`,
    env: { COURSE_DIR: 'test/fixture-course', COURSE_OUT: SITE_DIR, ASTRO_TELEMETRY_DISABLED: '1', RUNNER_START_KEY: testStartKey() },
    url: `http://127.0.0.1:${PORT}/`,
    reuseExistingServer: false,
    timeout: LAB_WAIT_MS,
    stdout: 'pipe',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
  }, {
    // The same course with the lab target, on the scripted lab: start-up tests (lab-startup.spec.ts).
    command: `exec sh scripts/with-node.sh node runner/main.ts --site ${SITE_DIR} --port ${LAB_PORT} --state "${path.join(STATE_DIR, 'lab-runner')}" --target lab --lab-cli test/browser/scripted-lab.sh 2>>"${RUNNER_LOG}"`,
    env: { RUNNER_START_KEY: testStartKey(), SCRIPTED_LAB_DIR: scriptedLabDir() },
    url: LAB_RUNNER_URL,
    reuseExistingServer: false,
    timeout: LAB_WAIT_MS,
    stdout: 'pipe',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
  }],
});
