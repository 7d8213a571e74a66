// The ssh target: every terminal is an interactive bash on another machine reached with `ssh`,
// for instance the original VM lab through `vagrant ssh-config > lab.ssh-config`:
//
//   node runner/main.ts --target ssh --ssh-config lab.ssh-config --ssh-host k8s-master \
//                       --ssh-host host=lab-host --ssh-host leaf10=leaf-sw10
//
// `--ssh-host HOST` is the host of every terminal; `--ssh-host TERMINAL=HOST` the host of one.
//
//   ssh -tt [-F CONFIG] HOST -- env RUNNER_SI_…=… bash -c '<start bash with the integration>' RC
//   ssh -T  [-F CONFIG] -o BatchMode=yes HOST -- bash -c 'CMD'      a state check's hidden command
//
// The shell integration (runner/shell-integration.bash) is a file here, not there, so its text
// travels in the command line and bash reads it through a process substitution: nothing is
// written on the remote machine. There is no per-learner isolation on a remote host: every
// learner's shells are the ssh user's shells; this target is for a course author proving lessons
// against the real lab, one learner at a time.

import { readFileSync } from 'node:fs';
import { type ExecResult, type ShellIntegration, type ShellResult, type Target } from '../target.ts';
import { LearnerProcesses } from './learner-processes.ts';

/** Keeps an idle connection alive through NAT and notices a dead one within about a minute. */
const SSH_KEEPALIVE_OPTIONS = ['-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=4'];
/** A hidden command must never stop to ask for a password or a host key: it would hang the check. */
const SSH_BATCH_OPTIONS = ['-o', 'BatchMode=yes'];

export type SshTargetOptions = {
  /** The host of every terminal without a host of its own. */
  host: string;
  /** Hosts of particular terminals, by terminal name. */
  terminalHosts?: Record<string, string>;
  /** An ssh config file (`ssh -F`), such as the output of `vagrant ssh-config`. */
  configFile?: string;
  /** The ssh client; `ssh` from PATH by default (tests substitute a fake). */
  ssh?: string;
};

/** Quotes a string for a POSIX shell: the remote side runs ssh's command line through one. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

const HOST = /^[A-Za-z0-9_.@:[\]-]+$/;

export class SshTarget implements Target {
  readonly name: string;
  readonly #options: SshTargetOptions;
  readonly #ssh: string;
  readonly #processes = new LearnerProcesses();
  #rcText: { file: string; text: string } | null = null;
  #disposed = false;

  constructor(options: SshTargetOptions) {
    for (const host of [options.host, ...Object.values(options.terminalHosts ?? {})]) {
      // A host starting with "-" would be taken for an option by ssh.
      if (!HOST.test(host) || host.startsWith('-')) {
        throw new Error(`ssh host must be letters, digits, ".", "_", "-", "@", ":" or brackets (not starting with "-"), got ${JSON.stringify(host)}`);
      }
    }
    this.#options = options;
    this.#ssh = options.ssh ?? 'ssh';
    this.name = `ssh ${options.host}`;
  }

  hostOf(terminal: string): string {
    return this.#options.terminalHosts?.[terminal] ?? this.#options.host;
  }

  #configArgs(): string[] {
    return this.#options.configFile ? ['-F', this.#options.configFile] : [];
  }

  #rc(file: string): string {
    if (this.#rcText?.file !== file) this.#rcText = { file, text: readFileSync(file, 'utf8') };
    return this.#rcText.text;
  }

  /** The ssh arguments that start a terminal's interactive shell with the integration loaded. */
  shellArgs(terminal: string, integration: ShellIntegration): string[] {
    const env = { ...integration.env, RUNNER_SI_DEFAULT_PS1: '1', TERM: 'xterm-256color' };
    const assignments = Object.entries(env).map(([key, value]) => {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(key)) throw new Error(`invalid environment variable name ${JSON.stringify(key)}`);
      return `${key}=${shellQuote(value)}`;
    });
    // `bash -c SCRIPT RC`: $0 is the integration's text, read back through a process substitution.
    const start = 'exec bash --rcfile <(builtin printf "%s" "$0") -i';
    const remote = ['env', ...assignments, 'bash', '-c', shellQuote(start), shellQuote(this.#rc(integration.rcfile))].join(' ');
    return ['-tt', ...this.#configArgs(), ...SSH_KEEPALIVE_OPTIONS, this.hostOf(terminal), '--', remote];
  }

  /** The ssh arguments that run a hidden command, non-interactively, on a terminal's host. */
  execArgs(terminal: string, command: string): string[] {
    return ['-T', ...this.#configArgs(), ...SSH_BATCH_OPTIONS, ...SSH_KEEPALIVE_OPTIONS, this.hostOf(terminal), '--', `bash -c ${shellQuote(command)}`];
  }

  async shell(_learner: string, terminal: string, integration: ShellIntegration): Promise<ShellResult> {
    if (this.#disposed) return { ok: false, message: `the ${this.name} target is shut down` };
    let args: string[];
    try {
      args = this.shellArgs(terminal, integration);
    } catch (error) {
      return { ok: false, message: `cannot read the shell integration ${integration.rcfile}: ${(error as Error).message}` };
    }
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
    return { ok: true, spec: { file: this.#ssh, args, env: { ...env, TERM: 'xterm-256color' }, cwd: process.cwd() } };
  }

  async exec(learner: string, terminal: string, command: string, timeoutMs: number): Promise<ExecResult> {
    const result = await this.#processes.run(learner, this.#ssh, this.execArgs(terminal, command), { timeoutMs });
    // ssh exits 255 for its own errors (no route, refused key): say where it happened.
    return result.exitCode === 255 ? { ...result, output: `${result.output}\n(ssh to ${this.hostOf(terminal)} failed)` } : result;
  }

  async disposeLearner(learner: string): Promise<void> {
    this.#processes.end(learner);
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
    for (const learner of this.#processes.learners()) await this.disposeLearner(learner);
  }
}

