// The lab target: each learner gets a lab sandbox of their own, and each terminal is a shell on the
// lab device of the same name (`host`, `k8s-master`, `leaf10`...). It speaks to the lab only
// through its CLI (lab/bin/lab):
//
//   lab --sandbox NAME up --wait             once per learner, before their first shell
//   lab --sandbox NAME shell DEVICE          a terminal (the integration via LAB_SHELL_INIT)
//   lab --sandbox NAME exec DEVICE -- CMD    a state check's hidden command
//   lab --sandbox NAME down                  when the learner is reaped or the runner stops
//   lab --sandbox NAME status --json --watch while a page shows the learner's lab (Target.observe)

import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StartupError } from '../cli-args.ts';
import { type ExecResult, type LabObservation, type Observation, type ShellIntegration, type ShellResult, type Target } from '../target.ts';
import { LearnerProcesses } from './learner-processes.ts';
import { parseLabStatus } from './lab-snapshot.ts';
import { observeCommand } from './observe-command.ts';

/**
 * Says once, before any learner comes, what the lab's sandboxes get on this machine (on stderr);
 * a machine that cannot make them is a start-up error that says what is missing.
 */
export async function announceLab(lab: LabTarget): Promise<void> {
  const { ok, report } = await lab.check();
  if (!ok) throw new StartupError(report);
  process.stderr.write(`${report}\n`);
}

export const LAB_CLI = fileURLToPath(new URL('../../lab/bin/lab', import.meta.url));

/**
 * `lab up --wait` gets this long, beyond its own wait (lab/cli.ts, 300 s) so that the lab's own
 * message says what did not come up; a sandbox not up by then is a spawn failure.
 */
const UP_TIMEOUT_MS = 360_000;
/** `lab check` gets this long: a Node start and a cgroup made and removed, minutes at load 40 at worst. */
const CHECK_TIMEOUT_MS = 120_000;
/** `lab down` gets this long before it is killed (it stops daemons gracefully first). */
const DOWN_TIMEOUT_MS = 60_000;
/** The tail of a failed `lab` command's output kept for the error shown to the learner. */
const ERROR_TAIL_CHARS = 2000;

export type LabTargetOptions = {
  /** The lab CLI; lab/bin/lab by default (tests substitute a fake). */
  cli?: string;
  /** Prefix of sandbox names, so that two runners on one machine do not share sandboxes. */
  prefix?: string;
  /** Extra environment for every lab command (LAB_STATE_DIR, for instance). */
  env?: Record<string, string>;
};


export class LabTarget implements Target {
  readonly name = 'lab';
  readonly #cli: string;
  readonly #prefix: string;
  readonly #env: Record<string, string>;
  /** Sandboxes being brought up or up, per learner: the first shell waits for `lab up`. */
  readonly #up = new Map<string, Promise<ExecResult>>();
  /** Learners whose `lab up` was ever started: even a failed one may have created the sandbox. */
  readonly #attempted = new Set<string>();
  readonly #processes = new LearnerProcesses();
  #disposed = false;

  constructor(options: LabTargetOptions = {}) {
    this.#cli = options.cli ?? LAB_CLI;
    this.#prefix = options.prefix ?? 'course';
    this.#env = options.env ?? {};
    if (!/^[a-z0-9][a-z0-9_-]{0,15}$/.test(this.#prefix)) {
      throw new Error(`lab sandbox prefix must be 1-16 lower-case letters, digits, "_" or "-", got ${JSON.stringify(this.#prefix)}`);
    }
  }

  /** A learner's sandbox name: the prefix and 16 hex digits of their id (lab allows 40 characters). */
  sandbox(learner: string): string {
    const id = learner.toLowerCase().replace(/[^0-9a-z]/g, '').slice(0, 16);
    if (!id) throw new Error(`invalid learner id ${JSON.stringify(learner)}`);
    return `${this.#prefix}-${id}`;
  }

  #baseEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
    return { ...env, ...this.#env, TERM: 'xterm-256color', COLORTERM: 'truecolor' };
  }

  /**
   * `lab check`, once at start-up: what the machine lacks for sandboxes (ok false), else what
   * they get (identity, limits), for the runner to say before the first learner comes.
   */
  check(): Promise<{ ok: boolean; report: string }> {
    return new Promise((resolve) => {
      execFile(this.#cli, ['check'], { env: this.#baseEnv(), timeout: CHECK_TIMEOUT_MS }, (error, stdout, stderr) => {
        resolve({ ok: error === null, report: `${stdout}${stderr}`.trim() || (error ? error.message : '') });
      });
    });
  }

  #run(learner: string, args: string[], timeoutMs: number): Promise<ExecResult> {
    return this.#processes.run(learner, this.#cli, ['--sandbox', this.sandbox(learner), ...args], { env: this.#baseEnv(), timeoutMs });
  }

  #ensureUp(learner: string): Promise<ExecResult> {
    let up = this.#up.get(learner);
    if (!up) {
      up = this.#run(learner, ['up', '--wait'], UP_TIMEOUT_MS);
      this.#up.set(learner, up);
      this.#attempted.add(learner);
      // A failed `up` is not remembered: the next shell tries again.
      up.then((result) => {
        if (result.exitCode !== 0 && this.#up.get(learner) === up) this.#up.delete(learner);
      }, () => this.#up.delete(learner));
    }
    return up;
  }

  async shell(learner: string, terminal: string, integration: ShellIntegration): Promise<ShellResult> {
    if (this.#disposed) return { ok: false, message: 'the lab target is shut down' };
    const up = await this.#ensureUp(learner);
    if (up.exitCode !== 0) {
      const why = up.timedOut ? `did not finish in ${UP_TIMEOUT_MS / 1000} s` : `failed (exit ${up.exitCode ?? 'none'})`;
      return { ok: false, message: `lab up for sandbox ${this.sandbox(learner)} ${why}: ${up.output.slice(-ERROR_TAIL_CHARS).trim()}` };
    }
    const env: Record<string, string> = { ...this.#baseEnv(), ...integration.env, LAB_SHELL_INIT: integration.rcfile };
    delete env.RUNNER_SI_USER_RC;
    delete env.RUNNER_SI_DEFAULT_PS1;
    return {
      ok: true,
      spec: { file: this.#cli, args: ['--sandbox', this.sandbox(learner), 'shell', terminal], env, cwd: path.dirname(this.#cli) },
    };
  }

  async exec(learner: string, terminal: string, command: string, timeoutMs: number): Promise<ExecResult> {
    const up = await this.#ensureUp(learner);
    if (up.exitCode !== 0) return { exitCode: null, output: `the lab is not up: ${up.output.slice(-ERROR_TAIL_CHARS).trim()}`, timedOut: false };
    return await this.#run(learner, ['exec', terminal, '--', 'bash', '-c', command], timeoutMs);
  }

  /** The learner's lab as `lab status --json --watch` sees it, once the lab is up. */
  observe(learner: string, listener: (observation: LabObservation) => void): Observation {
    return observeCommand({
      listener,
      parse: parseLabStatus,
      prepare: async (emit) => {
        if (this.#disposed) return { ok: false, message: 'the lab target is shut down' };
        if (!this.#up.has(learner)) emit({ ok: false, message: 'the lab is starting' });
        const up = await this.#ensureUp(learner);
        if (up.exitCode !== 0) return { ok: false, message: `the lab is not up: ${up.output.slice(-ERROR_TAIL_CHARS).trim()}` };
        return { ok: true, file: this.#cli, args: ['--sandbox', this.sandbox(learner), 'status', '--json', '--watch'], env: this.#baseEnv() };
      },
      track: (child, running) => this.#processes.track(learner, child, running),
    });
  }

  async disposeLearner(learner: string): Promise<void> {
    const up = this.#up.get(learner);
    this.#up.delete(learner);
    const attempted = this.#attempted.delete(learner);
    this.#processes.end(learner);
    if (!attempted) return;
    await up; // a sandbox still coming up is taken down once it is up
    const down = await this.#run(learner, ['down'], DOWN_TIMEOUT_MS);
    this.#processes.end(learner);
    if (down.exitCode !== 0) {
      throw new Error(`lab down for sandbox ${this.sandbox(learner)} failed (exit ${down.exitCode ?? 'none'}): ${down.output.slice(-ERROR_TAIL_CHARS).trim()}`);
    }
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    const learners = [...new Set([...this.#attempted, ...this.#processes.learners()])];
    const results = await Promise.allSettled(learners.map((l) => this.disposeLearner(l)));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length) throw new AggregateError(failed.map((f) => f.reason), `${failed.length} lab sandbox(es) could not be taken down`);
  }
}

