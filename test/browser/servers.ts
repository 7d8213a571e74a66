// Where the browser tests' runners listen, for playwright.config.ts and the specs that talk to the
// second one: the fixture course with local shells on PORT, and with the lab target on the
// scripted lab (test/browser/scripted-lab.sh) on LAB_PORT.

import path from 'node:path';

/** Unlikely to be taken on a developer machine; the runner fails loudly if it is. */
export const PORT = Number(process.env.COURSE_TEST_PORT ?? 47_213);
export const LAB_PORT = PORT + 1;
export const LAB_RUNNER_URL = `http://127.0.0.1:${LAB_PORT}/`;

/** The scripted lab's control files, in the run's state directory (set by playwright.config.ts). */
export function scriptedLabDir(): string {
  const state = process.env.COURSE_TEST_STATE;
  if (!state) throw new Error('COURSE_TEST_STATE is not set: run the browser tests through playwright.config.ts');
  return path.join(state, 'scripted-lab');
}
