// The start key of the runners that the Playwright configs start: one per test run, made where the
// config is first loaded and handed to the workers and the runners through the environment (the
// runner takes RUNNER_START_KEY out of its own environment before any shell starts).

import { randomBytes } from 'node:crypto';
import type { BrowserContext } from '@playwright/test';
import { ADMIT_PATH } from '../../runner/protocol.ts';

export function testStartKey(): string {
  process.env.RUNNER_START_KEY ??= randomBytes(24).toString('base64url');
  return process.env.RUNNER_START_KEY;
}

/** Admits a browser context's learner cookie, as opening the runner's printed URL would. */
export async function admitContext(context: BrowserContext, baseURL: string): Promise<void> {
  const response = await context.request.post(new URL(ADMIT_PATH, baseURL).href, {
    data: { key: testStartKey() },
    headers: { Origin: new URL(baseURL).origin },
  });
  if (!response.ok()) throw new Error(`admitting the test browser: ${ADMIT_PATH} answered ${response.status()}: ${await response.text()}`);
}
