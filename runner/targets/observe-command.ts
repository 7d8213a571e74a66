// Observing a lab through a long-running command that prints one JSON document per line whenever
// what it sees changes (`lab status --json --watch`, or a course's own script). Shared by the
// targets that implement Target.observe: they say how to start the command and how to read a line.

import { spawn, type ChildProcess } from 'node:child_process';
import type { LabObservation, Observation } from '../target.ts';
import { killGroup } from './learner-processes.ts';

/**
 * A watch command that ends (the lab was taken down and is coming back, a crash) is started again
 * after this long: soon enough that the view recovers by itself, slowly enough that a command that
 * fails at once does not spin.
 */
export const OBSERVER_RESTART_MS = 2000;
/** A line longer than this is not a snapshot of any lab a course has; the command is stopped. */
export const MAX_OBSERVER_LINE_BYTES = 1024 * 1024;
/** The end of a failed command's stderr kept for the message the page shows. */
const STDERR_TAIL_CHARS = 500;

export type ObserveCommandOptions = {
  /** Resolves to the command to run, or to a failure to report (a lab that did not come up); may report progress through `emit`. */
  prepare: (emit: (observation: LabObservation) => void) => Promise<{ ok: true; file: string; args: string[]; env: Record<string, string>; cwd?: string } | { ok: false; message: string }>;
  /** Reads one line of the command's output. */
  parse: (line: string) => LabObservation;
  listener: (observation: LabObservation) => void;
  /** Called with each started process (and again when it ends), so a target can kill it on dispose. */
  track?: (child: ChildProcess, running: boolean) => void;
  restartMs?: number;
};

export function observeCommand(options: ObserveCommandOptions): Observation {
  let disposed = false;
  let child: ChildProcess | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const restartMs = options.restartMs ?? OBSERVER_RESTART_MS;
  const emit = (observation: LabObservation) => {
    if (!disposed) options.listener(observation);
  };
  const again = () => {
    if (!disposed) timer = setTimeout(() => void start(), restartMs);
  };

  const start = async (): Promise<void> => {
    const prepared = await options.prepare(emit);
    if (disposed) return;
    if (!prepared.ok) {
      emit({ ok: false, message: prepared.message });
      again();
      return;
    }
    const proc = spawn(prepared.file, prepared.args, { env: prepared.env, cwd: prepared.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child = proc;
    options.track?.(proc, true);
    let buffer = '';
    let stderr = '';
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line) emit(options.parse(line));
      }
      if (buffer.length > MAX_OBSERVER_LINE_BYTES) {
        emit({ ok: false, message: `the lab observer printed a line over ${MAX_OBSERVER_LINE_BYTES} bytes; stopped it` });
        buffer = '';
        killGroup(proc, 'SIGTERM');
      }
    });
    proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
    });
    let ended = false;
    const end = (why: string) => {
      if (ended) return;
      ended = true;
      options.track?.(proc, false);
      if (child === proc) child = undefined;
      if (disposed) return;
      emit({ ok: false, message: `${why}${stderr.trim() ? `: ${stderr.trim()}` : ''}` });
      again();
    };
    proc.on('error', (error) => end(`cannot run ${prepared.file}: ${error.message}`));
    proc.on('close', (code, signal) => end(`the lab observer ended (${signal ?? `exit ${code}`})`));
  };

  void start().catch((error: unknown) => {
    // prepare() is the target's code; a throw there is a bug, shown rather than hidden.
    emit({ ok: false, message: `the lab observer could not start: ${(error as Error).message}` });
  });
  return {
    dispose() {
      if (disposed) return;
      disposed = true;
      clearTimeout(timer);
      if (child) killGroup(child, 'SIGTERM');
    },
  };
}

