// `npm run check:lessons` on the deliberately broken course (test/broken-course), local target: a
// wrong expected line, a check that always passes and a failing command are each reported with
// the step, the block and the reason; the good lesson passes; --from catches up; --repeat reruns.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LAB_WAIT_MS } from '../support/deadlines.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHECKER = path.join(ROOT, 'scripts/check-lessons.ts');
/** The first run builds the broken course (several seconds quiet, minutes at load 40); later ones reuse the build. */
const RUN_TIMEOUT_MS = LAB_WAIT_MS;

async function check(...args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [CHECKER, '--course', 'test/broken-course', '--target', 'local', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGTERM'), RUN_TIMEOUT_MS);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  return { code, output };
}

describe('check:lessons', () => {
  it('catches each broken lesson, naming the step and block, and passes the good one', async () => {
    const { code, output } = await check();
    assert.equal(code, 1, output);
    assert.match(output, /^ {2}✓ 01-good\/greet {2}Print a greeting {2}\(\d+\.\d s\)$/m);
    assert.match(output, /^ {2}✓ 01-good\/write /m);
    // A wrong expected line: the block, where it is, and the diff.
    assert.match(output, /^ {2}✗ 02-wrong-line\/list-spines {2}List the spines/m);
    assert.match(output, /block 02-wrong-line\/list-spines\/1 \(test\/broken-course\/02-wrong-line\.mdx:14\) failed: output did not match the expected output/);
    assert.match(output, /^ {9}spine1\n {8}-spine3\n {8}\+spine2$/m);
    // A check that always passes: caught before the step runs, though the step itself then passes.
    assert.match(output, /^ {2}✗ 03-always-passes\/make-dir /m);
    assert.match(output, /check passes before the step ran: state check 0 \(test\/broken-course\/03-always-passes\.mdx:19: `test -d \.`\) already exits 0/);
    // A command that fails, with what the terminal showed.
    assert.match(output, /^ {2}✗ 04-failing-command\/read-leaves /m);
    assert.match(output, /block 04-failing-command\/read-leaves\/1 \(test\/broken-course\/04-failing-command\.mdx:14\) failed: exited with 1, expected 0/);
    assert.match(output, /│ cat: leaves\.txt: No such file or directory/);
    // Timings per lesson, then the summary.
    assert.match(output, /Lesson timings\nlesson +steps +passed +time\n01-good +2 +2 +\d+\.\d s\n/);
    assert.match(output, /3 of 5 steps failed:\n {2}✗ 02-wrong-line\/list-spines: /);
  });

  it('exits 0 when every step of the chosen lessons passes', async () => {
    const { code, output } = await check('01-good');
    assert.equal(code, 0, output);
    assert.match(output, /All 2 steps passed\.$/m);
  });

  it('--from catches up, and stops with the failing earlier block when the catch-up fails', async () => {
    const good = await check('--from', '01-good/write', '01-good');
    assert.equal(good.code, 0, good.output);
    assert.match(good.output, /✓ catch-up to 01-good\/write \(\d+\.\d s\): Caught up: ran 1 block of 1 earlier step\./);
    assert.doesNotMatch(good.output, /01-good\/greet {2}/, 'steps before --from are caught up, not checked');

    const bad = await check('--from', '04-failing-command/read-leaves');
    assert.equal(bad.code, 1, bad.output);
    assert.match(bad.output, /✗ catch-up to 04-failing-command\/read-leaves .*Catch-up stopped: step "[^"]+": block 02-wrong-line\/list-spines\/1 \(test\/broken-course\/02-wrong-line\.mdx:14\) failed\./);
    assert.match(bad.output, /✗ 04-failing-command \(catch-up\): /);
  });

  it('--repeat reruns the walk and gives each lesson\'s fastest and slowest time', async () => {
    const { code, output } = await check('--repeat', '2', '01-good');
    assert.equal(code, 0, output);
    assert.match(output, /^run 2 of 2$/m);
    assert.match(output, /^01-good +2 +2 +\d+\.\d s … \d+\.\d s$/m);
    assert.match(output, /All 4 steps passed in each of 2 runs\./);
  });

  it('says what is allowed on a usage error', async () => {
    const { code, output } = await check('--repeat', '0');
    assert.equal(code, 2);
    assert.match(output, /^check-lessons: --repeat must be a whole number of runs, 1 or more, got "0"$/m);
    const unknown = await check('99-nope');
    assert.equal(unknown.code, 1);
    assert.match(unknown.output, /Unknown lesson "99-nope"; this course has: 01-good, 02-wrong-line, 03-always-passes, 04-failing-command/);
  });
});
