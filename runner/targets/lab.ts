// The lab target: each learner gets a lab sandbox of their own, and each terminal is a shell on the
// lab device of the same name (`host`, `k8s-master`, `leaf10`...). It speaks to the lab only
// through its CLI (lab/bin/lab):
//
//   lab --sandbox NAME up --wait --progress  once per learner; shells open once its devices exist
//   lab --sandbox NAME shell DEVICE          a terminal (the integration via LAB_SHELL_INIT)
//   lab --sandbox NAME exec DEVICE -- CMD    a state check's hidden command
//   lab --sandbox NAME restore               after a catch-up that stopped with a failure in effect
//   lab --sandbox NAME down                  when the learner is reaped or the runner stops
//   lab --sandbox NAME status --json --watch while a page shows the learner's lab (Target.observe)

import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StartupError } from '../cli-args.ts';
import type { StartupProgress } from '../protocol.ts';
import { type ExecResult, type LabObservation, type Observation, type ShellIntegration, type ShellResult, type Target, type TargetFailure } from '../target.ts';
import { LabStartup } from './lab-startup.ts';
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
 * How long `lab up` waits for the fabric and the nodes to converge. A busy machine is slow, not
 * broken: terminals open once the devices exist and the page shows the convergence, so this only
 * ends a start that will never converge.
 */
const CONVERGE_TIMEOUT_S = 1800;
/** `lab up` as a whole gets a minute beyond its wait, so that the lab's own message says what did not come up. */
const UP_TIMEOUT_MS = (CONVERGE_TIMEOUT_S + 60) * 1000;
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
  readonly #up = new Map<string, LabStartup>();
  /** A learner's `lab down` under way: a new start (a reset learner back at once) waits for it. */
  readonly #downs = new Map<string, Promise<void>>();
  /** Who follows each learner's start (Target.watchStartup). */
  readonly #startupListeners = new Map<string, Set<(progress: StartupProgress) => void>>();
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

  #run(learner: string, args: string[], timeoutMs: number, onLine?: (line: string) => void): Promise<ExecResult> {
    return this.#processes.run(learner, this.#cli, ['--sandbox', this.sandbox(learner), ...args], { env: this.#baseEnv(), timeoutMs, ...(onLine ? { onLine } : {}) });
  }

  /**
   * The learner's start: the current one, or a new one when there is none. A failed start is
   * started again only when `retry` says so (a shell being opened: a reload, the page's Retry);
   * checks and the topology observer take the failure as it is, so nothing restarts a lab in a loop.
   */
  #ensureUp(learner: string, retry: boolean): LabStartup {
    let up = this.#up.get(learner);
    if (retry && up?.progress.state === 'failed') up = undefined;
    if (!up) {
      const startup = new LabStartup(
        async (onLine) => {
          await this.#downs.get(learner);
          // Disposed or replaced while the last lab went down: this start is not wanted any more.
          if (this.#disposed || this.#up.get(learner) !== startup) return { exitCode: null, output: 'lab: the start was cancelled', timedOut: false };
          return await this.#run(learner, ['up', '--wait', '--progress', '--timeout', String(CONVERGE_TIMEOUT_S)], UP_TIMEOUT_MS, onLine);
        },
        (progress) => {
          if (this.#up.get(learner) !== startup) return;
          for (const listener of this.#startupListeners.get(learner) ?? []) listener(progress);
        },
      );
      up = startup;
      this.#up.set(learner, up);
      this.#attempted.add(learner);
      for (const listener of this.#startupListeners.get(learner) ?? []) listener(up.progress);
    }
    return up;
  }

  watchStartup(learner: string, listener: (progress: StartupProgress) => void): Observation {
    let listeners = this.#startupListeners.get(learner);
    if (!listeners) this.#startupListeners.set(learner, (listeners = new Set()));
    listeners.add(listener);
    const current = this.#up.get(learner);
    if (current) listener(current.progress);
    return {
      dispose: () => {
        listeners.delete(listener);
        if (listeners.size === 0 && this.#startupListeners.get(learner) === listeners) this.#startupListeners.delete(learner);
      },
    };
  }

  async whenReady(learner: string): Promise<{ ok: true } | TargetFailure> {
    if (this.#disposed) return { ok: false, message: 'the lab target is shut down' };
    return await this.#ensureUp(learner, false).done;
  }

  retryStartup(learner: string): void {
    if (!this.#disposed && this.#up.get(learner)?.progress.state === 'failed') this.#ensureUp(learner, true);
  }

  async shell(learner: string, terminal: string, integration: ShellIntegration): Promise<ShellResult> {
    if (this.#disposed) return { ok: false, message: 'the lab target is shut down' };
    // The shell opens once its device exists; the fabric may still be converging.
    const devices = await this.#ensureUp(learner, true).devices;
    if (!devices.ok) return devices;
    const env: Record<string, string> = { ...this.#baseEnv(), ...integration.env, LAB_SHELL_INIT: integration.rcfile };
    delete env.RUNNER_SI_USER_RC;
    delete env.RUNNER_SI_DEFAULT_PS1;
    return {
      ok: true,
      spec: { file: this.#cli, args: ['--sandbox', this.sandbox(learner), 'shell', terminal], env, cwd: path.dirname(this.#cli) },
    };
  }

  async exec(learner: string, terminal: string, command: string, timeoutMs: number): Promise<ExecResult> {
    const up = await this.whenReady(learner);
    if (!up.ok) return { exitCode: null, output: up.message, timedOut: false };
    return await this.#run(learner, ['exec', terminal, '--', 'bash', '-c', command], timeoutMs);
  }

  /** The learner's lab as `lab status --json --watch` sees it, once the lab is up. */
  observe(learner: string, listener: (observation: LabObservation) => void): Observation {
    return observeCommand({
      listener,
      parse: parseLabStatus,
      prepare: async (emit) => {
        if (this.#disposed) return { ok: false, message: 'the lab target is shut down' };
        if (this.#up.get(learner)?.progress.state !== 'ready') emit({ ok: false, message: 'the lab is starting' });
        const up = await this.whenReady(learner);
        if (!up.ok) return up;
        return { ok: true, file: this.#cli, args: ['--sandbox', this.sandbox(learner), 'status', '--json', '--watch'], env: this.#baseEnv() };
      },
      track: (child, running) => this.#processes.track(learner, child, running),
    });
  }

  async endFailures(learner: string): Promise<string | undefined> {
    if (this.#up.get(learner)?.progress.state !== 'ready') return undefined;
    const restored = await this.#run(learner, ['restore'], DOWN_TIMEOUT_MS);
    const said = restored.output.trim();
    if (restored.exitCode !== 0) return `Ending the failures it had made failed (lab restore, exit ${restored.exitCode ?? 'none'}): ${said.slice(-ERROR_TAIL_CHARS)}`;
    if (said === 'Nothing has failed') return undefined;
    return `It ended the failures it had made (lab restore): ${said.split('\n').join('; ')}.`;
  }

  async disposeLearner(learner: string): Promise<void> {
    const up = this.#up.get(learner);
    this.#up.delete(learner);
    const attempted = this.#attempted.delete(learner);
    this.#processes.end(learner);
    if (!attempted) return await this.#downs.get(learner);
    const down = (async () => {
      await up?.done; // ended just now with the learner's other processes
      const result = await this.#run(learner, ['down'], DOWN_TIMEOUT_MS);
      this.#processes.end(learner);
      if (result.exitCode !== 0) {
        throw new Error(`lab down for sandbox ${this.sandbox(learner)} failed (exit ${result.exitCode ?? 'none'}): ${result.output.slice(-ERROR_TAIL_CHARS).trim()}`);
      }
    })();
    const settled = down.catch(() => undefined);
    this.#downs.set(learner, settled);
    void settled.then(() => {
      if (this.#downs.get(learner) === settled) this.#downs.delete(learner);
    });
    await down;
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    const learners = [...new Set([...this.#attempted, ...this.#processes.learners()])];
    const results = await Promise.allSettled(learners.map((l) => this.disposeLearner(l)));
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed.length) throw new AggregateError(failed.map((f) => f.reason), `${failed.length} lab sandbox(es) could not be taken down`);
  }
}

