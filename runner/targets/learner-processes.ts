// The commands a target runs for a learner on its own account (a hidden state check, `lab up`, an
// observer), kept per learner so that disposing the learner ends them. Each runs in its own process
// group, so that a timeout or a dispose ends whatever it started too, with its output capped: a
// state check that floods must not grow the runner.

import { spawn, type ChildProcess } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { MAX_EXEC_OUTPUT_BYTES, type ExecResult } from '../target.ts';

export type CommandOptions = {
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs: number;
  /** Told each whole line of standard output as it comes (a progress feed), besides the collected output. */
  onLine?: (line: string) => void;
};

export class LearnerProcesses {
  readonly #running = new Map<string, Set<ChildProcess>>();

  /** Records a child started elsewhere (an observer's long-running command) as the learner's. */
  track(learner: string, child: ChildProcess, running: boolean): void {
    let set = this.#running.get(learner);
    if (!set) this.#running.set(learner, (set = new Set()));
    if (running) set.add(child);
    else set.delete(child);
  }

  /** Runs `file args` to its end or its timeout; stdout and stderr together, up to the cap. */
  run(learner: string, file: string, args: string[], options: CommandOptions): Promise<ExecResult> {
    return new Promise((resolve) => {
      const child = spawn(file, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      this.track(learner, child, true);
      const chunks: Buffer[] = [];
      let size = 0;
      const collect = (chunk: Buffer) => {
        if (size >= MAX_EXEC_OUTPUT_BYTES) return;
        const part = chunk.subarray(0, MAX_EXEC_OUTPUT_BYTES - size);
        chunks.push(part);
        size += part.length;
      };
      child.stdout!.on('data', collect);
      child.stderr!.on('data', collect);
      if (options.onLine) {
        const onLine = options.onLine;
        const decoder = new StringDecoder('utf8');
        let partial = '';
        child.stdout!.on('data', (chunk: Buffer) => {
          const lines = (partial + decoder.write(chunk)).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) onLine(line);
        });
      }
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child);
      }, options.timeoutMs);
      let settled = false;
      const finish = (exitCode: number | null, extra = '') => {
        // 'error' and 'close' can both come for one failed spawn: the first one settles.
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.track(learner, child, false);
        resolve({ exitCode: timedOut ? null : exitCode, output: Buffer.concat(chunks).toString('utf8') + extra, timedOut });
      };
      child.on('error', (error) => finish(null, `cannot run ${file}: ${error.message}`));
      child.on('close', (code) => finish(code));
    });
  }

  /** Ends every command of the learner's still running and forgets them. */
  end(learner: string): void {
    const set = this.#running.get(learner);
    this.#running.delete(learner);
    for (const child of set ?? []) killGroup(child);
  }

  learners(): string[] {
    return [...this.#running.keys()];
  }
}

/** Ends a child's whole process group (it may run through wrappers such as nsenter or ssh). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch (error) {
    // ESRCH: the group is already gone, which is what we wanted.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
