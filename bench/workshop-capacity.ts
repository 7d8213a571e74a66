// How many workshop learners this machine holds, each with a lab of their own:
//   npm run bench:workshop [-- --max 40] [--step 5] [--minutes 20] [--lessons 2]
//
// Starts the workshop runner (lab target, its own LAB_STATE_DIR and state directory), connects an
// instructor, then adds learners in waves of --step until --max: each joins like the join form,
// opens the course's first lessons (--lessons, in course order) and runs every block of every step
// in order against their own lab, as a learner clicking Run would, waiting for each step to pass.
// After each wave: memory (PSS of every lab, the runner's growth, MemAvailable), load, and the
// dashboard's update latency, measured with every learner so far re-running a step at once (from
// the learner's page getting the step's state to the instructor's socket getting the row showing it).
// Stops early when a step fails, when MemAvailable falls under 10 % of RAM, or at --minutes. The
// runner is stopped with SIGTERM (every lab taken down), then any lab of the bench still listed is
// taken down, on failure and Ctrl-C too.

import fs from 'node:fs';
import { totalmem } from 'node:os';
import os from 'node:os';
import path from 'node:path';
import { loadavg } from 'node:os';
import { courseManifestSchema, type LessonManifest } from '../runner/protocol.ts';
import { join, ScriptedInstructor, ScriptedLearner } from '../test/support/workshop-client.ts';
import { startWorkshop, type WorkshopProcess } from '../test/support/workshop-runner.ts';
import { machine, median, memAvailableKb, pssKb, REPO, sandboxPids, seconds, table, teardownAll } from './lab-common.ts';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} needs a positive integer, got ${JSON.stringify(process.argv[i + 1])}`);
  return value;
}

const MAX = flag('max', 40);
const STEP = flag('step', 5);
const MINUTES = flag('minutes', 20);
const LESSONS = flag('lessons', 2);
/** A step (a `lab up`, kubectl against a cluster still starting) gets this long. */
const STEP_TIMEOUT_MS = 180_000;
/** A failed step is run again up to this many times in all, this long after the last try. */
const STEP_ATTEMPTS = 10;
const RETRY_AFTER_MS = 2_000;
/** The flooding learner's output: far more than the probe lasts, so the flood runs throughout. */
const FLOOD_BYTES = 4 * 1024 ** 3;
/** Below this much available memory the machine is full: no further wave. */
const MEMORY_RESERVE_KB = (totalmem() / 1024) * 0.1;
const SITE = path.join(REPO, 'dist');

const state = fs.mkdtempSync(path.join(os.tmpdir(), 'workshop-bench-'));
process.env.LAB_STATE_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'workshop-bench-labs-'));
const deadline = Date.now() + MINUTES * 60_000;
const learnerIds: string[] = [];
const sandboxes = () => learnerIds.map((id) => `ws-${id.slice(0, 16)}`);
let workshop: WorkshopProcess | undefined;

async function cleanup(): Promise<void> {
  await workshop?.stop('SIGTERM');
  const listed = fs.existsSync(process.env.LAB_STATE_DIR!) ? fs.readdirSync(process.env.LAB_STATE_DIR!) : [];
  const left = sandboxes().filter((name) => listed.includes(name));
  if (left.length) {
    process.stderr.write(`taking down ${left.length} labs the runner left\n`);
    await teardownAll(left);
  }
  fs.rmSync(state, { recursive: true, force: true });
  fs.rmSync(process.env.LAB_STATE_DIR!, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: ending the runner and its labs\n`);
    void cleanup().then(() => process.exit(130));
  });
}

type Learner = { name: string; page: ScriptedLearner; lessons: LessonManifest[] };
type Wave = { learners: number; allPassed: boolean; slowestMs: number; labPssMb: number; runnerPssMb: number; availableGb: number; load: number; latency: number[] };

function cpuBusy(): { idle: number; total: number } {
  const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { idle: fields[3]! + (fields[4] ?? 0), total: fields.reduce((a, b) => a + b, 0) };
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  workshop = await startWorkshop(
    ['--name', 'capacity bench', '--target', 'lab', '--port', '0', '--state', state, '--unlocked', 'all', '--join-burst', String(MAX * 2)],
    path.join(state, 'runner.log'),
  );
  const manifest = courseManifestSchema.parse(JSON.parse(fs.readFileSync(path.join(SITE, 'course-manifest.json'), 'utf8')));
  const lessons = [...manifest.lessons].sort((a, b) => a.order - b.order).slice(0, LESSONS);
  const runnerBaseKb = pssKb(workshop.child.pid!);
  const availableStartKb = memAvailableKb();
  process.stderr.write(`workshop runner up (pid ${workshop.child.pid}); lessons: ${lessons.map((l) => l.id).join(', ')}\n`);

  const instructor = await ScriptedInstructor.connect(workshop.base, workshop.key);
  instructor.inbox.keep = false;
  // name -> step -> [state, when the learner's page saw it]; matched against the dashboard's rows.
  const seen = new Map<string, Map<string, { state: string; at: number }>>();
  let latencies: number[] = [];
  instructor.inbox.listen((message) => {
    if (message.type !== 'learner') return;
    const pending = seen.get(message.learner.name);
    if (!pending) return;
    const now = performance.now();
    for (const [step, { state: wanted, at }] of pending) {
      if (message.learner.steps[step] !== wanted) continue;
      latencies.push(Math.max(0, now - at));
      pending.delete(step);
    }
  });
  const track = (name: string, step: string, stateSeen: string, at: number) => {
    let pending = seen.get(name);
    if (!pending) seen.set(name, (pending = new Map()));
    pending.set(step, { state: stateSeen, at });
  };

  const learners: Learner[] = [];
  const waves: Wave[] = [];
  let retries = 0;
  let stop = '';
  while (learners.length < MAX && !stop) {
    const wave = Math.min(STEP, MAX - learners.length);
    const t0 = performance.now();
    const results = await Promise.all(
      Array.from({ length: wave }, async (_, i) => {
        const name = `Learner ${String(learners.length + i + 1).padStart(2, '0')}`;
        const cookie = await join(workshop!.base, workshop!.code, name);
        learnerIds.push(cookie.replace('learner=', ''));
        let page: ScriptedLearner | undefined;
        let passed = true;
        for (const lesson of lessons) {
          page?.close();
          page = await ScriptedLearner.connect(workshop!.base, cookie, lesson.id);
          page.inbox.keep = false;
          for (const step of lesson.steps) {
            // As a learner would, run a step that failed again a little later: right after the
            // lab comes up, BGP sessions need a few seconds before `calicoctl node status` shows them.
            let result: { state: string; at: number } = { state: 'idle', at: 0 };
            for (let attempt = 1; attempt <= STEP_ATTEMPTS; attempt++) {
              result = await page.runStep(step, STEP_TIMEOUT_MS).catch((error: Error) => {
                process.stderr.write(`${name}: ${step.id}: ${error.message}\n`);
                return { state: 'failed' as const, at: 0 };
              });
              if (result.state === 'passed') break;
              retries++;
              await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_MS));
            }
            if (result.state !== 'passed') {
              process.stderr.write(`${name}: step ${step.id} ${result.state}\n`);
              passed = false;
              break;
            }
          }
          if (!passed) break;
        }
        learners.push({ name, page: page!, lessons });
        return { passed, ms: performance.now() - t0 };
      }),
    );
    const allPassed = results.every((r) => r.passed);
    // Dashboard latency under load: every learner re-runs the first lesson's last step at once.
    latencies = [];
    const probeLesson = lessons.at(-1)!;
    const probeStep = probeLesson.steps.at(-1)!;
    const cpu0 = cpuBusy();
    await Promise.all(
      learners.map(async (learner) => {
        const { state: stepState, at } = await learner.page.runStep(probeStep, STEP_TIMEOUT_MS).catch(() => ({ state: 'failed' as const, at: 0 }));
        if (at) track(learner.name, probeStep.id, stepState, at);
      }),
    );
    const probeDeadline = Date.now() + 10_000;
    while ([...seen.values()].some((m) => m.size > 0) && Date.now() < probeDeadline) await new Promise((r) => setTimeout(r, 50));
    const cpu1 = cpuBusy();
    const labPssKb = sandboxes().reduce((sum, name) => {
      try {
        return sum + sandboxPids(name).reduce((s, pid) => s + pssKb(pid), 0);
      } catch {
        return sum; // not up (a failed learner)
      }
    }, 0);
    const result: Wave = {
      learners: learners.length,
      allPassed,
      slowestMs: Math.max(...results.map((r) => r.ms)),
      labPssMb: labPssKb / 1024,
      runnerPssMb: pssKb(workshop.child.pid!) / 1024,
      availableGb: memAvailableKb() / 1024 ** 2,
      load: loadavg()[0]!,
      latency: [...latencies],
    };
    waves.push(result);
    const busy = 100 * (1 - (cpu1.idle - cpu0.idle) / Math.max(1, cpu1.total - cpu0.total));
    process.stderr.write(
      `${result.learners} learners: ${allPassed ? 'all passed' : 'FAILURES'}, wave took ${seconds(result.slowestMs)} s, ` +
        `labs ${result.labPssMb.toFixed(0)} MB PSS, runner ${result.runnerPssMb.toFixed(0)} MB, available ${result.availableGb.toFixed(1)} GB, ` +
        `load ${result.load.toFixed(2)}, CPU ${busy.toFixed(0)} %, dashboard p50 ${percentile(latencies, 50).toFixed(0)} ms p95 ${percentile(latencies, 95).toFixed(0)} ms (${latencies.length} updates)\n`,
    );
    if (!allPassed) stop = 'a learner’s step failed';
    else if (memAvailableKb() < MEMORY_RESERVE_KB) stop = 'available memory under 10 %';
    else if (Date.now() > deadline) stop = `time budget of ${MINUTES} min spent`;
  }
  // One learner floods their terminal while the rest re-run the probe step: what it costs the room.
  let flood: { latency: number[]; stepMs: number[]; baselineStepMs: number[]; floodedBytes: number } | undefined;
  if (learners.length >= 2 && waves.at(-1)!.allPassed) {
    const probeStep = lessons.at(-1)!.steps.at(-1)!;
    const others = learners.slice(1);
    const timed = async () => {
      latencies = [];
      const stepMs: number[] = [];
      await Promise.all(
        others.map(async (learner) => {
          const t0 = performance.now();
          const { state: stepState, at } = await learner.page.runStep(probeStep, STEP_TIMEOUT_MS).catch(() => ({ state: 'failed' as const, at: 0 }));
          stepMs.push(performance.now() - t0);
          if (at) track(learner.name, probeStep.id, stepState, at);
        }),
      );
      const until = Date.now() + 10_000;
      while ([...seen.values()].some((m) => m.size > 0) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      return { latency: [...latencies], stepMs };
    };
    const baseline = await timed();
    const flooder = learners[0]!.page;
    const terminal = lessons.at(-1)!.terminals[0]!.name;
    const channel = await flooder.open(terminal, 60_000);
    const before = flooder.output.get(channel) ?? 0;
    flooder.type(channel, `yes 'flood flood flood flood flood flood flood flood' | head -c ${FLOOD_BYTES}; echo flood-done\r`);
    // Let the flood get going before measuring.
    const startBy = Date.now() + 10_000;
    while ((flooder.output.get(channel) ?? 0) - before < 1024 * 1024 && Date.now() < startBy) await new Promise((r) => setTimeout(r, 50));
    const during = await timed();
    flood = { ...during, baselineStepMs: baseline.stepMs, floodedBytes: (flooder.output.get(channel) ?? 0) - before };
    flooder.send({ type: 'interrupt', terminal });
    process.stderr.write(
      `flood: ${(flood.floodedBytes / 2 ** 20).toFixed(0)} MiB drawn by the flooding learner's page during the probe; others' step ` +
        `median ${median(baseline.stepMs).toFixed(0)} ms without, ${median(during.stepMs).toFixed(0)} ms with; dashboard p95 ${percentile(during.latency, 95).toFixed(0)} ms\n`,
    );
  }
  for (const learner of learners) learner.page.close();
  instructor.close();

  const held = [...waves].reverse().find((w) => w.allPassed);
  const last = waves.at(-1)!;
  process.stdout.write(`\nMachine: ${machine()}\nLessons run by each learner: ${lessons.map((l) => l.id).join(', ')}\n\n`);
  process.stdout.write(
    table(
      ['learners', 'all steps passed', 'slowest learner of the wave (s)', 'labs PSS (MB)', 'PSS per lab (MB)', 'runner PSS (MB)', 'MemAvailable (GB)', 'load (1 min)', 'dashboard p50 / p95 / max (ms)'],
      waves.map((w) => [
        w.learners,
        w.allPassed ? 'yes' : 'no',
        seconds(w.slowestMs),
        w.labPssMb.toFixed(0),
        (w.labPssMb / w.learners).toFixed(0),
        w.runnerPssMb.toFixed(0),
        w.availableGb.toFixed(1),
        w.load.toFixed(2),
        `${percentile(w.latency, 50).toFixed(0)} / ${percentile(w.latency, 95).toFixed(0)} / ${w.latency.length ? Math.max(...w.latency).toFixed(0) : 'NaN'}`,
      ]),
    ) + '\n',
  );
  const perLearnerMb = (availableStartKb / 1024 - last.availableGb * 1024) / last.learners;
  process.stdout.write(
    `\nHeld: ${held ? held.learners : 0} concurrent learners${stop ? ` (stopped: ${stop})` : ` (the --max of ${MAX})`}; ` +
      `memory per learner: ${(last.labPssMb / last.learners).toFixed(0)} MB PSS of lab + ${((last.runnerPssMb - runnerBaseKb / 1024) / last.learners).toFixed(1)} MB of runner ` +
      `(${perLearnerMb.toFixed(0)} MB of MemAvailable each); dashboard update median ${median(waves.flatMap((w) => w.latency)).toFixed(0)} ms; ` +
      `${retries} step runs repeated because the lab was still converging.\n`,
  );
  if (flood) {
    process.stdout.write(
      `With one learner flooding their terminal (${(flood.floodedBytes / 2 ** 20).toFixed(0)} MiB reached their page meanwhile), the other ${learners.length - 1} ` +
        `re-running a step: median ${median(flood.baselineStepMs).toFixed(0)} ms without the flood, ${median(flood.stepMs).toFixed(0)} ms with it ` +
        `(p95 ${percentile(flood.baselineStepMs, 95).toFixed(0)} → ${percentile(flood.stepMs, 95).toFixed(0)} ms); dashboard p50 / p95 ${percentile(flood.latency, 50).toFixed(0)} / ${percentile(flood.latency, 95).toFixed(0)} ms.\n`,
    );
  }
}

try {
  await main();
} finally {
  await cleanup();
}
