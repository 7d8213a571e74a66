// The WebSocket refuses pages from other sites and connections without the per-start token.
// Driven with the `ws` client so the test controls the Origin header, which a browser would not let
// a page forge.

import WebSocket from 'ws';
import { WEBSOCKET_PATH } from '../../runner/protocol.ts';
import { newLearner } from '../../scripts/course-check/client.ts';
import { testStartKey } from '../support/start-key.ts';
import { expect, test } from './fixtures.ts';

type Outcome = { opened: true } | { opened: false; status: number | undefined };

function connect(url: string, headers: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('open', () => {
      socket.close();
      resolve({ opened: true });
    });
    socket.once('unexpected-response', (_request, response) => {
      resolve({ opened: false, status: response.statusCode });
      response.resume();
      socket.terminate();
    });
    socket.once('error', (error) => reject(error));
  });
}

test.describe('WebSocket admission', () => {
  let base: URL;
  let token: string;
  let cookie: string;

  test.beforeEach(async ({ baseURL }) => {
    base = new URL(baseURL!);
    ({ cookie, token } = await newLearner(`${base.origin}/#start=${testStartKey()}`));
    expect(cookie).toMatch(/^learner=/);
  });

  const url = (query: string) => `ws://${base.host}${WEBSOCKET_PATH}${query}`;

  test('the page’s own origin with the token is admitted (so the refusals below mean something)', async () => {
    expect(await connect(url(`?token=${token}`), { Origin: base.origin, Cookie: cookie })).toEqual({ opened: true });
  });

  test('another origin is refused, even with the token', async () => {
    expect(await connect(url(`?token=${token}`), { Origin: 'http://evil.example', Cookie: cookie })).toEqual({ opened: false, status: 403 });
  });

  test('a connection without the token, or with a wrong one, is refused', async () => {
    expect(await connect(url(''), { Origin: base.origin, Cookie: cookie })).toEqual({ opened: false, status: 403 });
    expect(await connect(url(`?token=${'x'.repeat(token.length)}`), { Origin: base.origin, Cookie: cookie })).toEqual({ opened: false, status: 403 });
  });
});

test('a browser without the start key gets no session; the printed URL admits it and leaves no key in the address bar', async ({ browser, baseURL }) => {
  const context = await browser.newContext({ baseURL });
  try {
    const page = await context.newPage();
    await page.goto('/lessons/01-first-steps/');
    const status = page.locator('connection-status');
    await expect(status).toHaveAttribute('title', /has not been admitted: open the course with the URL that npm start printed/);
    await expect(page.locator('[data-role="notice"]')).toContainText('has not been admitted: open the course with the URL that npm start printed');
    await expect(status).not.toHaveAttribute('data-state', 'connected');
    await page.goto(`/#start=${testStartKey()}`);
    await expect.poll(() => page.url()).toBe(new URL('/', baseURL).href);
    await page.goto('/lessons/01-first-steps/');
    await expect(status).toHaveAttribute('data-state', 'connected');
  } finally {
    await context.close();
  }
});
