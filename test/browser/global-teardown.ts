// Removes the runner's state directory made by playwright.config.ts, after the runner has stopped.

import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const dir = process.env.COURSE_TEST_STATE;
  if (dir && dir.includes('course-browser-')) fs.rmSync(dir, { recursive: true, force: true });
}
