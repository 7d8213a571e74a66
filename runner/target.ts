// Where a terminal's shell runs. The runner asks a target to start a learner's shell for a terminal
// name, to run hidden commands for state checks, and to release what it holds for a learner; a plain
// local shell, the embedded lab sandbox and an ssh host are all targets, and nothing else in the
// runner knows which one it talks to.

import type { LabSnapshot, StartupProgress } from './protocol.ts';

/** How the runner's shell integration reaches a shell: an rc file for bash and its environment. */
export type ShellIntegration = {
  /** Path of runner/shell-integration.bash, to be loaded as the shell's rc file (`--rcfile`). */
  rcfile: string;
  /** Variables the rc file reads (the per-shell nonce); the target must pass them to the shell. */
  env: Record<string, string>;
};

/** What node-pty spawns: `file` with `args` in `cwd` with exactly `env`. */
export type ShellSpec = {
  file: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
};

/** An expected failure (a missing sandbox, a device that does not exist), sent to the page as is. */
export type TargetFailure = { ok: false; message: string };

export type ShellResult = { ok: true; spec: ShellSpec } | TargetFailure;

export type ExecResult = {
  /** Null when the command was killed (timeout) or could not start. */
  exitCode: number | null;
  /** stdout and stderr interleaved, cut to a bounded size. */
  output: string;
  timedOut: boolean;
};

export interface Target {
  /** For logs and errors: "local", "lab", "ssh host". */
  readonly name: string;
  /** How to start an interactive shell for this learner's terminal, with the integration loaded. */
  shell(learner: string, terminal: string, integration: ShellIntegration): Promise<ShellResult>;
  /** Runs a hidden command where the terminal's shell runs; never throws for a failing command. */
  exec(learner: string, terminal: string, command: string, timeoutMs: number): Promise<ExecResult>;
  /**
   * Optional: watches the learner's lab and calls `listener` with a snapshot now and whenever it
   * may have changed (the runner drops repeats), until the returned handle is disposed. The runner
   * observes a learner only while a page shows the topology, and at most once per learner.
   */
  observe?(learner: string, listener: (observation: LabObservation) => void): Observation;
  /**
   * Optional, for a target whose environment takes a while to come up (the lab): calls `listener`
   * with the learner's start as it is now (if one began) and at each change, until disposed. A
   * shell opens as soon as its device exists; blocks wait for `whenReady`.
   */
  watchStartup?(learner: string, listener: (progress: StartupProgress) => void): Observation;
  /** Optional (with watchStartup): resolves once the learner's environment is ready for blocks, or why it is not. */
  whenReady?(learner: string): Promise<{ ok: true } | TargetFailure>;
  /** Optional (with watchStartup): starts the learner's environment again if its last start failed (the page's Retry). */
  retryStartup?(learner: string): void;
  /**
   * Optional, for a target that can fail parts of itself on purpose (the lab's `lab fail`): ends
   * every such failure in the learner's environment, after a catch-up that stopped half-way. Says
   * what it ended, or undefined when nothing had failed.
   */
  endFailures?(learner: string): Promise<string | undefined>;
  /** Releases everything held for a learner (sandbox, working directory state). Idempotent. */
  disposeLearner(learner: string): Promise<void>;
  /** Releases everything; idempotent. */
  dispose(): Promise<void>;
}

/** A snapshot of the lab, or why there is none (starting, down, the observer failed). */
export type LabObservation = { ok: true; snapshot: LabSnapshot } | TargetFailure;

/** A running observation; dispose() stops it (idempotent) and no listener call follows. */
export type Observation = { dispose(): void };

/** Bytes of a hidden command's output kept for a check's message. */
export const MAX_EXEC_OUTPUT_BYTES = 64 * 1024;
