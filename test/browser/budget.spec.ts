// DESIGN.md's budget: at most 150 KB of JavaScript (gzip) shipped to a lesson page. Measured on
// what the page really loads, compressed here the way a server would compress it.

import { gzipSync } from 'node:zlib';
import { expect, test } from './fixtures.ts';

const LESSON_PAGE_JS_BUDGET_BYTES = 150 * 1024;

test('a lesson page ships at most 150 KB of JavaScript, gzipped', async ({ page, lesson }, testInfo) => {
  const scripts = new Map<string, Promise<Buffer>>();
  page.on('response', (response) => {
    if (response.request().resourceType() === 'script') scripts.set(response.url(), response.body());
  });
  await lesson.open('02-two-terminals');
  expect(scripts.size).toBeGreaterThan(0);
  let total = 0;
  const lines: string[] = [];
  for (const [url, body] of scripts) {
    const size = gzipSync(await body, { level: 9 }).byteLength;
    total += size;
    lines.push(`${(size / 1024).toFixed(1).padStart(7)} KB  ${new URL(url).pathname}`);
  }
  lines.push(`${(total / 1024).toFixed(1).padStart(7)} KB  total (budget ${LESSON_PAGE_JS_BUDGET_BYTES / 1024} KB)`);
  await testInfo.attach('javascript sizes (gzip)', { body: lines.join('\n'), contentType: 'text/plain' });
  console.log(lines.join('\n'));
  expect(total).toBeLessThanOrEqual(LESSON_PAGE_JS_BUDGET_BYTES);
});
