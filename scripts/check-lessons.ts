// `npm run check:lessons [LESSON...] [--from LESSON[/STEP]] [--repeat N] [--target lab|local|ssh]
//                        [--course DIR] [--site DIR] [--runner URL] [--ssh-host [TERMINAL=]HOST]...
//                        [--ssh-config FILE]`
//
// Walks the course as a new learner through the runner's protocol, without a browser: for every
// step, proves its checks fail before it runs, runs its blocks in order and requires it to pass
// within its budget. Prints a line per step, what failed (block, check, diff, terminal), flaky
// steps when repeated, and per-lesson timings; exits 1 if any step failed, 2 on a usage error.
//
// By default it builds `lessons/` into .cache/course-site (when older than the lessons), starts a
// runner on the lab target (sandboxes named chk-PID-…, taken down when it ends, even on failure
// or Ctrl-C), and stops it at the end. `--runner URL` uses a runner already running instead.

import path from 'node:path';
import { ArgvReader, UsageError } from '../runner/cli-args.ts';
import { courseManifestSchema, type CourseManifest } from '../runner/protocol.ts';
import { failures, flakySteps, formatStep, timingTable } from './course-check/report.ts';
import { defaultSiteDir, ensureSite, ROOT, startRunner, type StartedRunner } from './course-check/runner-process.ts';
import { walkCourse, type LessonReport } from './course-check/walk.ts';

const USAGE = `usage: npm run check:lessons -- [LESSON...] [--from LESSON[/STEP]] [--repeat N]
                             [--target lab|local|ssh] [--course DIR] [--site DIR] [--runner URL]
                             [--ssh-host [TERMINAL=]HOST]... [--ssh-config FILE]`;
const TARGETS = ['lab', 'local', 'ssh'];


type Options = {
  lessons: string[];
  from?: string;
  repeat: number;
  target: string;
  course: string;
  site?: string;
  runner?: string;
  runnerArgs: string[];
};

function parseArgs(argv: string[]): Options {
  const options: Options = { lessons: [], repeat: 1, target: 'lab', course: 'lessons', runnerArgs: [] };
  const args = new ArgvReader(argv);
  for (let arg = args.next(); arg !== undefined; arg = args.next()) {
    const value = (): string => args.value(arg!);
    switch (arg) {
      case '--from':
        options.from = value();
        break;
      case '--repeat': {
        const v = value();
        if (!/^[1-9]\d*$/.test(v)) throw new UsageError(`--repeat must be a whole number of runs, 1 or more, got ${JSON.stringify(v)}`);
        options.repeat = Number(v);
        break;
      }
      case '--target': {
        const v = value();
        if (!TARGETS.includes(v)) throw new UsageError(`--target must be one of ${TARGETS.join(', ')}, got ${JSON.stringify(v)}`);
        options.target = v;
        break;
      }
      case '--course':
        options.course = value();
        break;
      case '--site':
        options.site = path.resolve(value());
        break;
      case '--runner':
        options.runner = value();
        break;
      case '--ssh-host':
      case '--ssh-config':
        options.runnerArgs.push(arg, value());
        break;
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        process.exit(0);
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown option ${JSON.stringify(arg)}`);
        options.lessons.push(arg);
    }
  }
  if (options.target === 'ssh' && !options.runnerArgs.includes('--ssh-host') && !options.runner) {
    throw new UsageError('--target ssh needs --ssh-host HOST');
  }
  return options;
}

async function loadManifest(url: string): Promise<CourseManifest> {
  // The runner serves the built site, manifest included: the walk follows exactly what it runs.
  const response = await fetch(new URL('course-manifest.json', url));
  if (!response.ok) throw new Error(`${new URL('course-manifest.json', url)} answered ${response.status}`);
  return courseManifestSchema.parse(await response.json());
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const log = (line: string) => process.stdout.write(`${line}\n`);
  let runner: StartedRunner | null = null;
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`${signal}: stopping the runner (its lab sandboxes are taken down)\n`);
    void (runner?.stop() ?? Promise.resolve()).then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    let url = options.runner;
    if (!url) {
      const site = options.site ?? defaultSiteDir(options.course);
      if (!options.site) await ensureSite(options.course, site, log);
      const args = [...options.runnerArgs];
      if (options.target === 'lab') args.push('--lab-prefix', `chk-${process.pid}`.slice(0, 16));
      runner = await startRunner({ siteDir: site, target: options.target, args, log });
      url = runner.url;
      log(`runner ${url} on the ${options.target} target, course ${path.relative(ROOT, site) || site}`);
    }
    const manifest = await loadManifest(url);
    const runs: LessonReport[][] = [];
    for (let run = 1; run <= options.repeat; run++) {
      if (options.repeat > 1) log(`\nrun ${run} of ${options.repeat}`);
      let current = '';
      const reports = await walkCourse({
        url,
        manifest,
        lessons: options.lessons,
        ...(options.from ? { from: options.from } : {}),
        log,
        onStep: (step) => {
          if (step.lesson !== current) {
            current = step.lesson;
            log(`${step.lesson}  ${manifest.lessons.find((l) => l.id === step.lesson)?.title ?? ''}`);
          }
          log(formatStep(step));
        },
      });
      runs.push(reports);
      for (const lesson of reports) {
        if (lesson.catchUp && !lesson.catchUp.ok) {
          log(`✗ ${lesson.lesson}: not walked, the catch-up failed: ${lesson.catchUp.message}`);
          if (lesson.catchUp.diff) log(lesson.catchUp.diff.replace(/^/gm, '    '));
        }
      }
    }
    const failed = failures(runs);
    const caughtUpFailed = runs.flat().filter((l) => l.catchUp && !l.catchUp.ok);
    const flaky = flakySteps(runs);
    log(`\nLesson timings\n${timingTable(runs)}`);
    if (flaky.length) {
      log(`\nFlaky steps (passed in some runs only):`);
      for (const f of flaky) log(`  ${f.step}: passed ${f.passed} of ${f.runs} runs`);
    }
    const steps = runs.flat().reduce((n, l) => n + l.steps.length, 0);
    if (failed.length === 0 && caughtUpFailed.length === 0) {
      log(`\nAll ${steps} step${steps === 1 ? '' : 's'} passed${options.repeat > 1 ? ` in each of ${options.repeat} runs` : ''}.`);
      return 0;
    }
    log(`\n${failed.length} of ${steps} step${steps === 1 ? '' : 's'} failed${caughtUpFailed.length ? `, ${caughtUpFailed.length} catch-up(s) failed` : ''}:`);
    for (const step of failed) log(`  ✗ ${step.step}: ${step.problems[0]?.split('\n')[0] ?? 'failed'}`);
    for (const lesson of caughtUpFailed) log(`  ✗ ${lesson.lesson} (catch-up): ${lesson.catchUp!.message.split('\n')[0]}`);
    return 1;
  } finally {
    await runner?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`check-lessons: ${error.message}\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`check-lessons: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
