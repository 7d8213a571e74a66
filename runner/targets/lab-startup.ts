// One learner's `lab up --wait --progress` as the runner follows it (lab/progress.ts writes the
// lines): the phases the lab announced and how far each is, the lines a failure shows, and the two
// moments the runner waits for: the devices exist (a terminal may open), and the start is over
// (blocks may run).

import { z } from 'zod';
import type { StartupPhase, StartupProgress } from '../protocol.ts';
import type { ExecResult, TargetFailure } from '../target.ts';

const progressLineSchema = z.union([
  z.object({ plan: z.array(z.object({ phase: z.string().min(1).max(40), label: z.string().min(1).max(80) })).max(20) }),
  z.object({
    phase: z.string().min(1).max(40),
    state: z.enum(['running', 'done', 'skipped']),
    detail: z.string().max(200).optional(),
    seconds: z.number().min(0).optional(),
  }),
  z.object({ log: z.string() }),
]);

/** The lab's phase after which every device exists, so a shell on it can open. */
const DEVICES_PHASE = 'devices';
/** Lines of the lab's own log kept for a failed start's details. */
const LOG_LINES = 60;
/** The most of a failed start's details sent to the page. */
const DETAIL_CHARS = 6000;

export type StartOutcome = { ok: true } | TargetFailure;

export class LabStartup {
  readonly #onChange: (progress: StartupProgress) => void;
  #phases: StartupPhase[] = [];
  #state: StartupProgress['state'] = 'starting';
  #message: string | undefined;
  #detail: string | undefined;
  readonly #log: string[] = [];
  #devicesExist!: (outcome: StartOutcome) => void;
  /** Settles once every device exists, or when the start ends without them. */
  readonly devices = new Promise<StartOutcome>((resolve) => (this.#devicesExist = resolve));
  /** Settles when `lab up` ends: ready, or why not. */
  readonly done: Promise<StartOutcome>;

  /** `run` starts `lab up --wait --progress`, handing each line of its standard output to the callback. */
  constructor(run: (onLine: (line: string) => void) => Promise<ExecResult>, onChange: (progress: StartupProgress) => void) {
    this.#onChange = onChange;
    // A start that throws (a bug, not a lab that failed) still ends, as failed, so nothing waits on it for ever.
    this.done = run((line) => this.#line(line)).then(
      (result) => this.#end(result),
      (error: unknown) => this.#end({ exitCode: null, output: `lab: ${(error as Error).message}`, timedOut: false }),
    );
  }

  get progress(): StartupProgress {
    return {
      state: this.#state,
      phases: this.#phases.map((phase) => ({ ...phase })),
      ...(this.#message === undefined ? {} : { message: this.#message }),
      ...(this.#detail === undefined ? {} : { detail: this.#detail }),
    };
  }

  #line(line: string): void {
    let parsed: z.infer<typeof progressLineSchema>;
    try {
      parsed = progressLineSchema.parse(JSON.parse(line));
    } catch {
      this.#keep(line); // not a progress line (an older lab, a stray print): still worth showing on failure
      return;
    }
    if ('plan' in parsed) {
      this.#phases = parsed.plan.map(({ phase, label }) => ({ phase, label, state: 'pending' }));
    } else if ('log' in parsed) {
      this.#keep(parsed.log);
      return;
    } else {
      const phase = this.#phases.find((candidate) => candidate.phase === parsed.phase);
      if (!phase) return;
      phase.state = parsed.state;
      if (parsed.detail === undefined) delete phase.detail;
      else phase.detail = parsed.detail;
      if (parsed.seconds !== undefined) phase.seconds = parsed.seconds;
      if (parsed.phase === DEVICES_PHASE && parsed.state === 'done') this.#devicesExist({ ok: true });
    }
    this.#onChange(this.progress);
  }

  #keep(line: string): void {
    if (!line.trim()) return;
    this.#log.push(line);
    if (this.#log.length > LOG_LINES) this.#log.shift();
  }

  #end(result: ExecResult): StartOutcome {
    let outcome: StartOutcome;
    if (result.exitCode === 0) {
      this.#state = 'ready';
      for (const phase of this.#phases) if (phase.state !== 'skipped') phase.state = 'done';
      outcome = { ok: true };
    } else {
      // The lab says what went wrong on its standard error as "lab: …"; the rest is context.
      const errors = result.output.split('\n').filter((line) => line.trim() && !line.startsWith('{'));
      const said = errors.findLast((line) => line.startsWith('lab: '))?.slice('lab: '.length);
      const why = result.timedOut ? 'it did not finish in time' : (said ?? `lab up ended with exit code ${result.exitCode ?? 'none'}`);
      this.#state = 'failed';
      this.#message = `The lab did not start: ${why}`;
      this.#detail = [...this.#log, ...errors].join('\n').slice(-DETAIL_CHARS);
      for (const phase of this.#phases) {
        if (phase.state !== 'running') continue;
        phase.state = 'failed';
        delete phase.detail;
      }
      outcome = { ok: false, message: this.#message };
    }
    this.#devicesExist(outcome);
    this.#onChange(this.progress);
    return outcome;
  }
}
