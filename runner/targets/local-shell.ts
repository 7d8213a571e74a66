// The plain local target: every terminal is a bash on this machine, as the runner's user, in a
// working directory of the learner's own under the state directory. There is no isolation beyond
// that directory: this target is for a course author's own machine and for tests.

import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { labSnapshotSchema } from '../protocol.ts';
import { type ExecResult, type LabObservation, type Observation, type ShellIntegration, type ShellResult, type Target } from '../target.ts';
import { LearnerProcesses } from './learner-processes.ts';
import { observeCommand } from './observe-command.ts';

export type LocalShellOptions = {
  /** Learners' working directories are made under `<stateDir>/learners/`. */
  stateDir: string;
  /** Source the user's ~/.bashrc before the integration (off by default: lessons then behave the same everywhere). */
  userRc?: boolean;
  /** The shell; `bash` from PATH by default. */
  bash?: string;
  /**
   * A command (run with `bash -c`, in the learner's working directory, with COURSE_LEARNER set)
   * that prints the learner's lab as protocol lab snapshots, one JSON line each time it changes:
   * how a course run on a plain shell (a VM lab, a test) feeds the topology view. Without it this
   * target has no lab to show.
   */
  topologyCommand?: string;
};

/** Learner ids are made by the runner (hex); anything else here is a programmer mistake. */
const LEARNER_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class LocalShellTarget implements Target {
  readonly name = 'local';
  readonly #options: LocalShellOptions;
  /** Hidden commands still running, per learner, so that dispose can stop them. */
  readonly #processes = new LearnerProcesses();
  #disposed = false;

  constructor(options: LocalShellOptions) {
    this.#options = options;
  }

  workDir(learner: string): string {
    if (!LEARNER_ID.test(learner)) throw new Error(`invalid learner id ${JSON.stringify(learner)}`);
    return path.join(this.#options.stateDir, 'learners', learner);
  }

  #baseEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (value !== undefined) env[key] = value;
    }
    env.TERM = 'xterm-256color';
    env.COLORTERM = 'truecolor';
    return env;
  }

  /** Only with `topologyCommand`: its lines, each a lab snapshot. */
  get observe(): ((learner: string, listener: (observation: LabObservation) => void) => Observation) | undefined {
    const command = this.#options.topologyCommand;
    if (command === undefined) return undefined;
    return (learner, listener) =>
      observeCommand({
        listener,
        parse: parseSnapshotLine,
        prepare: async () => {
          const cwd = this.workDir(learner);
          await mkdir(cwd, { recursive: true });
          return { ok: true, file: this.#options.bash ?? 'bash', args: ['-c', command], env: { ...this.#baseEnv(), COURSE_LEARNER: learner }, cwd };
        },
      });
  }

  async shell(learner: string, _terminal: string, integration: ShellIntegration): Promise<ShellResult> {
    if (this.#disposed) return { ok: false, message: 'the local target is shut down' };
    const cwd = this.workDir(learner);
    try {
      await mkdir(cwd, { recursive: true });
    } catch (error) {
      return { ok: false, message: `cannot create the working directory ${cwd}: ${(error as Error).message}` };
    }
    const env = { ...this.#baseEnv(), ...integration.env };
    delete env.RUNNER_SI_USER_RC;
    delete env.RUNNER_SI_DEFAULT_PS1;
    // Either the learner's own ~/.bashrc (and its prompt), or the runner's prompt.
    if (this.#options.userRc) env.RUNNER_SI_USER_RC = '1';
    else env.RUNNER_SI_DEFAULT_PS1 = '1';
    return { ok: true, spec: { file: this.#options.bash ?? 'bash', args: ['--rcfile', integration.rcfile, '-i'], env, cwd } };
  }

  async exec(learner: string, _terminal: string, command: string, timeoutMs: number): Promise<ExecResult> {
    const cwd = this.workDir(learner);
    await mkdir(cwd, { recursive: true });
    return await this.#processes.run(learner, this.#options.bash ?? 'bash', ['-c', command], { cwd, env: this.#baseEnv(), timeoutMs });
  }

  async disposeLearner(learner: string): Promise<void> {
    this.#processes.end(learner);
    // The working directory stays: it is the learner's work, like their progress.
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    for (const learner of this.#processes.learners()) await this.disposeLearner(learner);
  }
}

function parseSnapshotLine(line: string): LabObservation {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (error) {
    return { ok: false, message: `the topology command printed a line that is not JSON: ${(error as Error).message}` };
  }
  const parsed = labSnapshotSchema.safeParse(json);
  if (!parsed.success) {
    return { ok: false, message: `the topology command printed an invalid snapshot: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  }
  return { ok: true, snapshot: parsed.data };
}
