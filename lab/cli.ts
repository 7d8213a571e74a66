// `lab`: the lab host's equivalent of `vagrant` for the dual-TOR lab. Run through lab/bin/lab.
//
// From a host shell, commands that change or inspect the fabric enter the sandbox (nsenter) and run
// this same program inside it; `ssh`/`shell`/`exec`/`host` enter the device directly. Inside a
// sandbox (a learner's terminal), every command acts on that sandbox.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { down, fail, FAILURE_MODES, readFailures, restore, up, waitBudget, waitForFabric, waitForNodesSettled, FabricError, type FailureMode } from './fabric.ts';
import { jsonProgress, secondsSince, textProgress, type Progress } from './progress.ts';
import { HOST_DEVICE, SHELL_RC, deviceCommand, resolveTarget, run, selectedSandbox } from './layout.ts';
import { SandboxError, currentSandbox, ensureSandbox, findKeeper, formatProblems, listSandboxes, nsenterArgs, preflight, sandboxEnv, sandboxGuarantees, stopSandbox } from './sandbox.ts';
import { collectStatus, watchStatus } from './status.ts';
import { loadTopology, TopologyError, type Topology } from './topology.ts';

const CLI_PATH = fileURLToPath(import.meta.url);
/**
 * `lab up --wait` and `lab wait` give the fabric this long to converge by default: sized for a
 * 2-core machine with a workshop's room on it, where a lab that takes 15 s quiet takes minutes.
 */
const DEFAULT_WAIT_SECONDS = 300;
/** `lab down` gives services and daemons this long to stop before the sandbox is ended anyway. */
const GRACEFUL_DOWN_MS = 15_000;

export function help(devices: string[]): string {
  return `Usage: lab [--sandbox NAME] COMMAND [ARGS]

The dual-TOR lab: spines, leaves (FRR) and Kubernetes nodes (BIRD) in network namespaces of a
private sandbox. The sandbox is NAME (--sandbox), else $LAB_SANDBOX, else the sandbox this shell
runs in, else "default".

Commands:
  up [DEVICE...] [--wait [--timeout S]] [--fabric-only] [--progress]
                        create the sandbox if needed and bring devices up (all by default);
                        idempotent. --wait: also wait until every leaf-spine BGP session is
                        Established and, with the cluster's services, each node runs its
                        rendered BIRD configuration with every session Established (default
                        timeout ${DEFAULT_WAIT_SECONDS} s). --fabric-only: start no services
                        (cluster emulation), so nodes keep the bootstrap BIRD configuration.
                        --progress: one JSON object a line (the phases as they go)
  status [--json [--watch]]
                        devices, links and BGP sessions at a glance; --watch: a JSON line
                        now and one whenever the status changes (looks every second)
  ssh DEVICE            interactive shell in DEVICE (hostname and prompt as the original lab;
                        vtysh on switches, birdc on nodes)
  shell DEVICE          same as ssh; "host" is the sandbox's lab host
  host                  interactive shell on the lab host (the sandbox's root namespace), with lab
  exec DEVICE -- CMD... run CMD in DEVICE, non-interactively; exit code passed through.
                        DEVICE may also be "host" or a pod (NAMESPACE/NAME, or a unique NAME)
  fail TARGET --mode link|stop|silent
                        fail a device or a link (TARGET: DEVICE, or a link as DEVICE:IFACE or
                        A:X--B:Y). link: its links go down; stop: its routing daemons stop
                        cleanly; silent: links stay up but it drops everything and its daemons
                        freeze, so only BFD or hold timers notice (links: --mode link only)
  restore [TARGET]      undo a failure (all failures by default)
  wait [--nodes] [--timeout S]
                        wait until every leaf-spine BGP session is Established; --nodes: and
                        every leaf-node session too (the nodes peer with their TORs in the
                        bootstrap BIRD config, or once the cluster has BGPPeers for them)
  down                  stop everything and remove the sandbox
  list                  running sandboxes
  check                 what this machine lacks for sandboxes, else where their identities
                        come from and which limits hold
  --help                this help

Devices: ${devices.join(' ')} (lab/topology.yaml).
Environment: LAB_SANDBOX (sandbox), LAB_STATE_DIR (host-side state, default
$XDG_RUNTIME_DIR/dual-tor-lab or /run/user/$UID/dual-tor-lab), LAB_SHELL_INIT (a file every lab
shell sources after its own setup).
`;
}

class UsageError extends Error {
  override name = 'UsageError';
}

interface Parsed {
  sandbox: string | undefined;
  command: string | undefined;
  args: string[];
  /** After "--" (exec). */
  rest: string[];
}

export function parseArgs(argv: string[]): Parsed {
  let sandbox: string | undefined;
  let command: string | undefined;
  const args: string[] = [];
  let rest: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--') {
      rest = argv.slice(i + 1);
      break;
    }
    if (arg === '--sandbox' || arg === '-s') {
      sandbox = argv[++i];
      if (sandbox === undefined) throw new UsageError('--sandbox needs a NAME');
    } else if (arg.startsWith('--sandbox=')) {
      sandbox = arg.slice('--sandbox='.length);
    } else if (arg === '--help' || arg === '-h' || arg === 'help') {
      command = 'help';
    } else if (command === undefined && !arg.startsWith('-')) {
      command = arg;
    } else {
      args.push(arg);
    }
  }
  return { sandbox, command, args, rest };
}

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  if (index >= 0) {
    const value = args[index + 1];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${name} needs a value`);
    args.splice(index, 2);
    return value;
  }
  const inline = args.find((a) => a.startsWith(`${name}=`));
  if (inline) {
    args.splice(args.indexOf(inline), 1);
    return inline.slice(name.length + 1);
  }
  return undefined;
}

function flag(args: string[], name: string): boolean {
  const index = args.indexOf(name);
  if (index < 0) return false;
  args.splice(index, 1);
  return true;
}

function noMoreOptions(args: string[], command: string): void {
  const unknown = args.find((a) => a.startsWith('-'));
  if (unknown) throw new UsageError(`Unknown option "${unknown}" for lab ${command}; see lab --help`);
}

function seconds(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`--timeout must be a number of seconds > 0, got "${text}"`);
  return value;
}

const print = (line: string) => process.stdout.write(`${line}\n`);

/** `lab up`'s reporter: JSON lines with `--progress` (lab/progress.ts), else plain lines. */
function upProgress(args: string[]): Progress {
  return flag(args, '--progress') ? jsonProgress(print) : textProgress(print);
}

/** Runs argv with this terminal; resolves with its exit code. SIGINT/SIGQUIT go to the child only. */
function interactive(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', env: argv[0] === 'nsenter' ? sandboxEnv(env) : env });
    const ignore = () => undefined; // the child, in the same process group, gets the signal itself
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', ignore);
    process.on('SIGQUIT', ignore);
    process.on('SIGTERM', forward);
    process.on('SIGHUP', forward);
    child.once('error', (error) => reject(new SandboxError(`Could not run ${argv[0]}: ${error.message}`)));
    child.once('close', (code, signal) => {
      process.off('SIGINT', ignore);
      process.off('SIGQUIT', ignore);
      process.off('SIGTERM', forward);
      process.off('SIGHUP', forward);
      resolve(code ?? (signal === 'SIGKILL' ? 137 : signal === 'SIGTERM' ? 143 : 129));
    });
  });
}

/** On the host: runs this CLI again inside the sandbox with the same arguments. */
async function reexecInside(sandbox: string, argv: string[], joinCgroups = true): Promise<number> {
  const keeper = findKeeper(sandbox);
  if (!keeper) throw new SandboxError(`Sandbox "${sandbox}" is not running; start it with: lab --sandbox ${sandbox} up`);
  return interactive([...nsenterArgs(keeper, { joinCgroups }), process.execPath, CLI_PATH, '--sandbox', sandbox, ...argv], { ...process.env, LAB_SANDBOX: sandbox, LAB_FROM_HOST: '1' });
}

async function shellIn(sandbox: string, topology: Topology, device: string): Promise<number> {
  const target = resolveTarget(topology, device);
  const known = topology.devices.find((d) => d.name === device);
  const env = {
    ...process.env,
    LAB_SANDBOX: sandbox,
    LAB_PROMPT_HOST: target.hostname,
    LAB_PROMPT_SUFFIX: known && known.kind !== 'node' ? ':mgmt' : '',
  };
  return interactive(deviceCommand(sandbox, target, ['bash', '--rcfile', SHELL_RC, '-i']), env);
}

async function status(sandbox: string, topology: Topology, json: boolean): Promise<number> {
  const report = await collectStatus(sandbox, topology);
  const { devices, links, sessions, failures, services } = report;
  if (json) {
    print(JSON.stringify(report, null, 2));
    return 0;
  }
  print(`Sandbox ${sandbox}`);
  print('');
  print(`${'DEVICE'.padEnd(14)}${'KIND'.padEnd(7)}${'STATE'.padEnd(17)}DAEMONS / PODS`);
  for (const d of devices) {
    const daemons = d.daemons.map((x) => (x.running ? x.name : `${x.name}(stopped)`)).join(' ');
    const pods = d.kind === 'node' ? `, pods ${d.pods.filter((p) => p.present).length}/${d.pods.length}` : '';
    print(`${d.name.padEnd(14)}${d.kind.padEnd(7)}${d.state.padEnd(17)}${d.state === 'not created' ? '-' : daemons + pods}`);
  }
  print('');
  print(`${'LINK'.padEnd(40)}STATE`);
  for (const l of links) print(`${l.id.padEnd(40)}${l.a === l.b ? l.a : `${l.a}/${l.b}`}${l.failed ? '  (failed)' : ''}`);
  print('');
  print('BGP');
  for (const d of topology.devices) {
    const mine = sessions.filter((s) => s.device === d.name);
    if (failures.some((f) => f.target === d.name && f.mode === 'silent')) {
      print(`  ${d.name.padEnd(13)}(silent: daemons frozen, not asked)`);
      continue;
    }
    if (mine.length === 0) continue;
    print(`  ${d.name.padEnd(13)}${mine.map((s) => `${s.peer} ${s.state}`).join(', ')}`);
  }
  const fabric = sessions.filter((s) => s.kind === 'fabric');
  print(`  fabric: ${fabric.filter((s) => s.state === 'Established').length}/${fabric.length} Established`);
  if (services.length > 0) {
    print('');
    print('SERVICES');
    for (const s of services) print(`  ${s.device.padEnd(13)}${s.name.padEnd(24)}${s.pid === undefined ? 'stopped' : `running (pid ${s.pid})`}`);
  }
  return 0;
}

const COMMANDS = ['up', 'status', 'ssh', 'shell', 'host', 'exec', 'fail', 'restore', 'wait', 'down', 'list', 'check', 'help'];

export async function main(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv);
  const { command, args, rest } = parsed;
  if (command === undefined || command === 'help') {
    process.stdout.write(help(loadTopology().devices.map((d) => d.name)));
    return command === undefined ? 2 : 0;
  }
  if (!COMMANDS.includes(command)) throw new UsageError(`Unknown command "${command}"; commands: ${COMMANDS.filter((c) => c !== 'help').join(', ')} (see lab --help)`);
  if (command === 'list') {
    for (const name of listSandboxes()) print(name);
    return 0;
  }
  if (command === 'check') {
    const problems = preflight();
    if (problems.length > 0) {
      process.stderr.write(`${formatProblems(problems)}\n`);
      return 1;
    }
    print('lab: this machine can run lab sandboxes');
    for (const line of sandboxGuarantees()) print(`  ${line}`);
    return 0;
  }
  const sandbox = selectedSandbox(parsed.sandbox);
  const current = currentSandbox();
  const inside = current !== undefined;
  if (inside && current !== sandbox) {
    throw new SandboxError(`This shell runs inside sandbox "${current}"; it cannot act on sandbox "${sandbox}"`);
  }
  const topology = loadTopology();

  switch (command) {
    case 'ssh':
    case 'shell':
    case 'host': {
      const device = command === 'host' ? HOST_DEVICE : args[0];
      if (device === undefined) throw new UsageError(`lab ${command} needs a DEVICE; devices: ${[HOST_DEVICE, ...topology.devices.map((d) => d.name)].join(', ')}`);
      noMoreOptions(args, command);
      return shellIn(sandbox, topology, device);
    }
    case 'exec': {
      const device = args[0];
      if (device === undefined || rest.length === 0) throw new UsageError('Usage: lab exec DEVICE -- CMD [ARG...]');
      noMoreOptions(args, command);
      return interactive(deviceCommand(sandbox, resolveTarget(topology, device), rest), { ...process.env, LAB_SANDBOX: sandbox });
    }
    case 'down': {
      if (!inside) {
        if (!findKeeper(sandbox)) {
          print(`Sandbox ${sandbox} is not running`);
          return 0;
        }
        // Stop services and daemons gracefully inside (bounded: a stuck or overloaded sandbox
        // must still go), then end the sandbox.
        // A sandbox at its process limit cannot run the graceful stop: it ends regardless.
        const graceful = reexecInside(sandbox, ['down'], false).catch((error: unknown) => {
          print(`graceful stop failed (${(error as Error).message}); ending the sandbox`);
          return 1;
        });
        const bounded = await Promise.race([graceful, new Promise<'late'>((resolve) => setTimeout(resolve, GRACEFUL_DOWN_MS, 'late').unref())]);
        if (bounded === 'late') print(`graceful stop took over ${GRACEFUL_DOWN_MS / 1000} s; ending the sandbox`);
        await stopSandbox(sandbox);
        print(`Sandbox ${sandbox} removed`);
        return 0;
      }
      await down(sandbox, topology, print);
      if (process.env.LAB_FROM_HOST !== '1') {
        // Typed inside the sandbox: end it from here (its keeper is PID 1 of this PID namespace).
        print(`Sandbox ${sandbox} ends now`);
        process.kill(1, 'SIGTERM');
      }
      return 0;
    }
  }

  if (!inside) {
    if (command === 'up') {
      const progress = upProgress(args);
      progress.plan();
      const t0 = Date.now();
      const created = findKeeper(sandbox) === undefined;
      progress.phase('sandbox', 'running');
      await ensureSandbox(sandbox);
      if (created) progress.log(`sandbox ${sandbox} created in ${((Date.now() - t0) / 1000).toFixed(2)} s`);
      progress.phase('sandbox', 'done', { seconds: secondsSince(t0) });
    }
    return reexecInside(sandbox, argv.filter((a, i) => !(a === '--sandbox' || a === '-s' || a.startsWith('--sandbox=') || argv[i - 1] === '--sandbox' || argv[i - 1] === '-s')));
  }

  switch (command) {
    case 'up': {
      const progress = upProgress(args);
      const wait = flag(args, '--wait');
      const fabricOnly = flag(args, '--fabric-only');
      const timeout = seconds(option(args, '--timeout'), DEFAULT_WAIT_SECONDS);
      noMoreOptions(args, command);
      const started = Date.now();
      await up({ sandbox, topology, devices: args, services: !fabricOnly, report: progress.log, phase: progress.phase });
      const failures = readFailures();
      if (wait && failures.length > 0) {
        // Sessions through a failed device stay down on purpose: waiting for them would only time
        // out, and a runner reconnecting to this lab would refuse the learner a terminal.
        progress.log(`not waiting for BGP: failures in effect (${failures.map((f) => `${f.target} ${f.mode}`).join(', ')}); lab restore ends them`);
      }
      if (!wait || failures.length > 0) {
        progress.phase('fabric', 'skipped');
        progress.phase('nodes', 'skipped');
        return 0;
      }
      // One budget for the whole wait, counted from the start of `up`.
      const budget = waitBudget(timeout, started);
      const fabricStarted = Date.now();
      progress.phase('fabric', 'running');
      const result = await waitForFabric(topology, budget, false, (detail) => progress.phase('fabric', 'running', { detail }));
      progress.log(`fabric: ${result.established}/${result.expected} leaf-spine BGP sessions Established ${((Date.now() - started) / 1000).toFixed(2)} s after lab up`);
      progress.phase('fabric', 'done', { seconds: secondsSince(fabricStarted) });
      if (fabricOnly) {
        progress.phase('nodes', 'skipped');
        return 0;
      }
      const nodesStarted = Date.now();
      progress.phase('nodes', 'running');
      const nodes = await waitForNodesSettled(topology, budget, (detail) => progress.phase('nodes', 'running', { detail }));
      progress.log(`nodes: ${nodes.established} BGP sessions Established ${((Date.now() - started) / 1000).toFixed(2)} s after lab up`);
      progress.phase('nodes', 'done', { seconds: secondsSince(nodesStarted) });
      return 0;
    }
    case 'wait': {
      const timeout = seconds(option(args, '--timeout'), DEFAULT_WAIT_SECONDS);
      const nodes = flag(args, '--nodes');
      noMoreOptions(args, command);
      const result = await waitForFabric(topology, waitBudget(timeout), nodes);
      print(`${nodes ? 'fabric and nodes' : 'fabric'}: ${result.established}/${result.expected} ${nodes ? '' : 'leaf-spine '}BGP sessions Established (waited ${(result.ms / 1000).toFixed(2)} s)`);
      return 0;
    }
    case 'status': {
      const json = flag(args, '--json');
      const watch = flag(args, '--watch');
      noMoreOptions(args, command);
      if (watch && !json) throw new UsageError('lab status --watch needs --json (one JSON line per change)');
      return watch ? watchStatus(sandbox, topology, (line) => process.stdout.write(`${line}\n`)) : status(sandbox, topology, json);
    }
    case 'fail': {
      const mode = option(args, '--mode');
      noMoreOptions(args, command);
      const target = args[0];
      if (target === undefined) throw new UsageError(`Usage: lab fail DEVICE|LINK --mode ${FAILURE_MODES.join('|')}; devices: ${topology.devices.map((d) => d.name).join(', ')}`);
      if (mode === undefined) throw new UsageError(`lab fail needs --mode ${FAILURE_MODES.join('|')}`);
      if (!FAILURE_MODES.includes(mode as FailureMode)) throw new UsageError(`Unknown mode "${mode}"; modes: ${FAILURE_MODES.join(', ')}`);
      await fail({ sandbox, topology, target, mode: mode as FailureMode, report: print });
      return 0;
    }
    case 'restore': {
      noMoreOptions(args, command);
      const restored = await restore(sandbox, topology, args[0], print);
      if (restored === 0 && args[0] === undefined) print('Nothing has failed');
      return 0;
    }
  }
  throw new Error(`unreachable: command ${command}`);
}

const EXPECTED_ERRORS = [UsageError, SandboxError, FabricError, TopologyError];

if (process.argv[1] === CLI_PATH) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (EXPECTED_ERRORS.some((type) => error instanceof type)) {
        process.stderr.write(`lab: ${(error as Error).message}\n`);
        process.exit(error instanceof UsageError ? 2 : 1);
      }
      throw error;
    },
  );
}
