// `node runner/validate-manifest.ts FILE`: validates a course manifest the way the runner loads it,
// compiling every expected-output pattern, so that the site build fails on a broken lesson with the
// lesson's file and line. Exit 0 when valid, 1 with one problem per line on stderr, 2 on misuse.

import { loadCourse, ManifestError } from './manifest.ts';

const args = process.argv.slice(2);
if (args.length !== 1 || args[0]!.startsWith('-')) {
  process.stderr.write('usage: node runner/validate-manifest.ts FILE\n');
  process.exitCode = 2;
} else {
  try {
    const course = await loadCourse(args[0]!);
    process.stdout.write(
      `${args[0]}: ${course.lessons.size} lessons, ${course.steps.size} steps, ${course.blocks.size} blocks: valid\n`,
    );
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    process.stderr.write(error.problems.length ? `${error.problems.join('\n')}\n` : `${error.message}\n`);
    process.exitCode = 1;
  }
}
