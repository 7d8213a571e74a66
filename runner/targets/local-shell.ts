// The plain local target: every terminal is a bash on this machine, as the runner's user, in a
// working directory of the learner's own under the state directory. There is no isolation beyond
// that directory: this target is for a course author's own machine and for tests.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { labSnapshotSchema } from '../protocol.ts';
import { MAX_EXEC_OUTPUT_BYTES, type ExecResult, type LabObservation, type Observation, type ShellIntegration, type ShellResult, type Target } from '../target.ts';
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
  readonly #running = new Map<string, Set<ChildProcess>>();
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
    return await new Promise<ExecResult>((resolve) => {
      // Its own process group, so that a timeout ends whatever the command started too.
      const child = spawn(this.#options.bash ?? 'bash', ['-c', command], {
        cwd,
        env: this.#baseEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let set = this.#running.get(learner);
      if (!set) this.#running.set(learner, (set = new Set()));
      set.add(child);
      const chunks: Buffer[] = [];
      let size = 0;
      const collect = (chunk: Buffer) => {
        if (size >= MAX_EXEC_OUTPUT_BYTES) return;
        chunks.push(chunk.subarray(0, MAX_EXEC_OUTPUT_BYTES - size));
        size += Math.min(chunk.length, MAX_EXEC_OUTPUT_BYTES - size);
      };
      child.stdout!.on('data', collect);
      child.stderr!.on('data', collect);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child);
      }, timeoutMs);
      const finish = (exitCode: number | null, extra = '') => {
        clearTimeout(timer);
        set.delete(child);
        resolve({ exitCode: timedOut ? null : exitCode, output: Buffer.concat(chunks).toString('utf8') + extra, timedOut });
      };
      child.on('error', (error) => finish(null, `cannot run bash: ${error.message}`));
      child.on('close', (code) => finish(code));
    });
  }

  async disposeLearner(learner: string): Promise<void> {
    const set = this.#running.get(learner);
    if (!set) return;
    this.#running.delete(learner);
    for (const child of set) killGroup(child);
    // The working directory stays: it is the learner's work, like their progress.
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    for (const learner of [...this.#running.keys()]) await this.disposeLearner(learner);
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch (error) {
    // ESRCH: the group is already gone, which is what we wanted.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
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
