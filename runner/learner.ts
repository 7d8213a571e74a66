// One learner: their terminals (one shell per terminal name, shared by every page they have open),
// their block and step states (live ones in memory, settled ones in the progress store), and the
// pages connected to them. Pages come and go; the terminals stay until the learner has been gone
// for the idle time, when everything is disposed and the target told to release their resources.

import { catchUpPlan, runCatchUp, type StatusEvent } from './catch-up.ts';
import { blockResults, pollStateCheck } from './checks.ts';
import { normaliseCommand, type FinishedCommand, type RunningCommand } from './command-tracker.ts';
import type { Course, IndexedBlock } from './manifest.ts';
import type { BlockStatus, CheckResult, ErrorCode, ServerMessage, StartupProgress, StepStatus } from './protocol.ts';
import type { ProgressStore } from './progress-store.ts';
import { restartNote, ScreenKeeper } from './screen-keeper.ts';
import { createShellNonce } from './shell-marks.ts';
import type { Observation, ShellIntegration, Target } from './target.ts';
import { TerminalSession, type Attachment, type Job } from './terminal-session.ts';
import { TopologyWatch } from './topology-watch.ts';
import { verifyStep } from './verify-step.ts';

/** Size of a shell started before any page said how big its terminal is (a `run` before `open`). */
const DEFAULT_SIZE = { cols: 80, rows: 24 };

/** What a learner needs from a connected page. */
export interface PageLink {
  readonly lesson: string | null;
  send(message: ServerMessage): void;
  /** The attachments this page holds, by terminal name. */
  readonly attachments: Map<string, Attachment>;
}

export type LearnerContext = {
  course: Course;
  store: ProgressStore;
  target: Target;
  integrationRcfile: string;
  log: (line: string) => void;
  /** Workshop mode: told after any change a dashboard shows (steps, pages, terminals). */
  onChange?: (learner: Learner) => void;
  /** Workshop mode: why this block may not run now (its lesson is locked), or null. */
  refuseRun?: (learner: Learner, block: IndexedBlock) => { code: ErrorCode; message: string } | null;
};

export type OpenResult = { ok: true; terminal: TerminalSession } | { ok: false; code: ErrorCode; message: string };

export class Learner {
  readonly id: string;
  readonly #ctx: LearnerContext;
  readonly #terminals = new Map<string, TerminalSession>();
  readonly #starting = new Map<string, Promise<OpenResult>>();
  readonly #pages = new Set<PageLink>();
  /** Live block states; settled ones are also in the store. */
  readonly #blocks = new Map<string, BlockStatus>();
  readonly #steps = new Map<string, StepStatus>();
  /** Typed commands recognised as blocks, by terminal name and command id. */
  readonly #recognised = new Map<string, Map<number, IndexedBlock>>();
  /** The state-check run in progress per step, so a newer evaluation or a reset can stop it. */
  readonly #checkRuns = new Map<string, AbortController>();
  /** Which block each clicked job runs. */
  readonly #jobs = new WeakMap<Job, IndexedBlock>();
  /** Observers of every block and step status set (a catch-up waiting for its blocks). */
  readonly #statusListeners = new Set<(event: StatusEvent) => void>();
  /** The catch-up running for this learner, if any: one at a time. */
  #catchUp: AbortController | null = null;
  /** The live lab graph, observed while a page of this learner shows it. */
  readonly topology: TopologyWatch;
  /** Each open terminal's screen kept in the store (for a runner restart after a crash). */
  readonly #screenKeepers = new Map<string, ScreenKeeper>();
  /** The learner's environment start as the target last told it (slow-starting targets only). */
  #startup: StartupProgress | undefined;
  readonly #startupWatch: Observation | undefined;
  #disposed = false;

  constructor(id: string, ctx: LearnerContext) {
    this.id = id;
    this.#ctx = ctx;
    this.topology = new TopologyWatch(ctx.target, id, ctx.log);
    this.#startupWatch = ctx.target.watchStartup?.(id, (progress) => {
      this.#startup = progress;
      for (const page of this.#pages) if (page.lesson !== null) page.send({ type: 'startup', ...progress });
    });
    for (const status of ctx.store.blocks(id)) this.#blocks.set(status.block, status);
    for (const status of ctx.store.steps(id)) this.#steps.set(status.step, status);
  }

  get pageCount(): number {
    return this.#pages.size;
  }
  get disposed(): boolean {
    return this.#disposed;
  }
  terminal(name: string): TerminalSession | undefined {
    return this.#terminals.get(name);
  }

  addPage(page: PageLink): void {
    this.#pages.add(page);
    this.#ctx.store.touchLearner(this.id);
    this.#ctx.onChange?.(this);
  }

  removePage(page: PageLink): void {
    if (!this.#pages.delete(page)) return;
    this.topology.remove(page);
    for (const [name, attachment] of page.attachments) this.#terminals.get(name)?.detach(attachment);
    page.attachments.clear();
    this.#ctx.onChange?.(this);
  }

  lessonState(lesson: string): { steps: StepStatus[]; blocks: BlockStatus[] } {
    const prefix = `${lesson}/`;
    return {
      steps: [...this.#steps.values()].filter((s) => s.step.startsWith(prefix)),
      blocks: [...this.#blocks.values()].filter((b) => b.block.startsWith(prefix)),
    };
  }

  /** Starts the environment again if its last start failed (the page's Retry). */
  retryStartup(): void {
    this.#ctx.target.retryStartup?.(this.id);
  }

  /** The environment's start as last reported, for a page that just said hello; undefined when there is none to show. */
  get startup(): StartupProgress | undefined {
    return this.#startup;
  }

  allSteps(): StepStatus[] {
    return [...this.#steps.values()];
  }

  // -- terminals ---------------------------------------------------------------------------------

  /** The learner's shell for a terminal name, started through the target if it is not running. */
  async openTerminal(name: string, size = DEFAULT_SIZE): Promise<OpenResult> {
    const existing = this.#terminals.get(name);
    if (existing && !existing.exited) return { ok: true, terminal: existing };
    const pending = this.#starting.get(name);
    if (pending) return await pending;
    const start = this.#startTerminal(name, size);
    this.#starting.set(name, start);
    try {
      return await start;
    } finally {
      this.#starting.delete(name);
    }
  }

  async #startTerminal(name: string, size: { cols: number; rows: number }): Promise<OpenResult> {
    const nonce = createShellNonce();
    const integration: ShellIntegration = { rcfile: this.#ctx.integrationRcfile, env: { RUNNER_SI_NONCE: nonce } };
    const shell = await this.#ctx.target.shell(this.id, name, integration);
    if (!shell.ok) return { ok: false, code: 'spawn-failed', message: `Cannot start terminal "${name}": ${shell.message}` };
    if (this.#disposed) return { ok: false, code: 'spawn-failed', message: `Cannot start terminal "${name}": the session has ended` };
    // A screen kept from a shell the runner did not end (it was killed): shown above the new shell.
    const saved = this.#ctx.store.screen(this.id, name);
    let keeper: ScreenKeeper | undefined;
    let terminal: TerminalSession;
    try {
      terminal = new TerminalSession({
        spec: shell.spec,
        nonce,
        cols: size.cols,
        rows: size.rows,
        ...(saved ? { restoredScreen: saved.screen + restartNote(saved.running) } : {}),
        listener: {
          onOutput: () => keeper?.changed(),
          onCommandStart: (command, job) => {
            keeper?.changed();
            this.#onCommandStart(name, command, job);
          },
          onCommandDone: (command, job) => {
            keeper?.changed();
            this.#onCommandDone(name, command, job);
          },
          onExit: (exitCode) => this.#onTerminalExit(name, terminal, exitCode),
        },
      });
    } catch (error) {
      return {
        ok: false,
        code: 'spawn-failed',
        message: `Cannot start terminal "${name}" (${shell.spec.file} on target ${this.#ctx.target.name}): ${(error as Error).message}`,
      };
    }
    this.#terminals.set(name, terminal);
    const started = terminal;
    keeper = new ScreenKeeper(
      () => started.snapshot(),
      (screen) => {
        try {
          this.#ctx.store.putScreen(this.id, name, screen);
        } catch (error) {
          // The screen kept before stays; the next save tries again.
          this.#ctx.log(`learner ${this.id}: terminal ${name}: could not keep its screen: ${(error as Error).message}`);
        }
      },
    );
    this.#screenKeepers.set(name, keeper);
    this.#ctx.log(`learner ${this.id}: terminal ${name} started (pid ${terminal.pid})`);
    this.#ctx.onChange?.(this);
    return { ok: true, terminal };
  }

  #onTerminalExit(name: string, terminal: TerminalSession, exitCode: number | null): void {
    if (this.#terminals.get(name) === terminal) {
      this.#terminals.delete(name);
      this.#screenKeepers.get(name)?.dispose();
      this.#screenKeepers.delete(name);
      this.#ctx.store.deleteScreens(this.id, name);
    }
    this.#recognised.delete(name);
    for (const page of this.#pages) {
      const attachment = page.attachments.get(name);
      if (!attachment) continue;
      page.attachments.delete(name);
      page.send({ type: 'exited', terminal: name, exitCode });
    }
    terminal.dispose();
    this.#ctx.onChange?.(this);
  }

  // -- blocks ------------------------------------------------------------------------------------

  /**
   * Runs a block (already checked to belong to the page's lesson). While the environment is still
   * starting, the block shows `queued` and runs once it is ready; this returns at once, so the
   * page's other frames (keystrokes, Stop, Reset) are never held behind the wait.
   */
  async runBlock(indexed: IndexedBlock, interrupt: boolean): Promise<{ ok: true } | { ok: false; code: ErrorCode; message: string }> {
    const refused = this.#ctx.refuseRun?.(this, indexed);
    if (refused) return { ok: false, ...refused };
    const opened = await this.openTerminal(indexed.block.terminal);
    if (!opened.ok) return opened;
    if (!this.#ctx.target.whenReady || this.#startup?.state === 'ready') return this.#submit(indexed, interrupt, opened.terminal);
    this.#setBlock(indexed, { block: indexed.block.id, state: 'queued', results: [] });
    void this.#runWhenReady(indexed, interrupt);
    return { ok: true };
  }

  /** The rest of runBlock once the environment is ready; what goes wrong now is said on the block. */
  async #runWhenReady(indexed: IndexedBlock, interrupt: boolean): Promise<void> {
    const ready = await this.#ctx.target.whenReady!(this.id);
    if (this.#disposed) return;
    let outcome: { ok: true } | { ok: false; message: string } = ready;
    if (ready.ok) {
      // The terminal may have been replaced while the lab started.
      const opened = await this.openTerminal(indexed.block.terminal);
      outcome = opened.ok ? this.#submit(indexed, interrupt, opened.terminal) : opened;
    }
    if (outcome.ok || this.#disposed) return;
    this.#setBlock(indexed, { block: indexed.block.id, state: 'failed', results: [{ check: 'exit-code', passed: false, message: outcome.message }] });
    this.#evaluateStep(indexed);
  }

  /** Types the block into its terminal now, or queues it behind what runs there. */
  #submit(indexed: IndexedBlock, interrupt: boolean, terminal: TerminalSession): { ok: true } | { ok: false; code: ErrorCode; message: string } {
    const { block } = indexed;
    const job: Job = {
      code: block.code,
      interrupt,
      // The block shows `running` once its command starts (#onCommandStart), not when it is typed.
      onDone: (result) => {
        if ('error' in result) {
          this.#setBlock(indexed, {
            block: block.id,
            state: 'failed',
            results: [{ check: 'exit-code', passed: false, message: result.error }],
          });
          this.#evaluateStep(indexed);
        }
        // A finished command is handled in #onCommandDone, which also sees typed commands.
      },
    };
    this.#jobs.set(job, indexed);
    const submitted = terminal.submit(job);
    if (submitted === 'busy') {
      return {
        ok: false,
        code: 'terminal-busy',
        message: `Terminal "${block.terminal}" is busy and already has blocks waiting; wait for them or interrupt it.`,
      };
    }
    if (submitted === 'queued') this.#setBlock(indexed, { block: block.id, state: 'queued', results: [] });
    return { ok: true };
  }

  #jobBlock(job: Job | undefined): IndexedBlock | undefined {
    return job ? this.#jobs.get(job) : undefined;
  }

  #onCommandStart(terminal: string, command: RunningCommand, job: Job | undefined): void {
    const clicked = this.#jobBlock(job);
    if (clicked) {
      this.#setBlock(clicked, { block: clicked.block.id, state: 'running', results: [] });
      return;
    }
    if (job) return;
    // A typed command whose text is a block's code counts as a click on that block.
    const indexed = this.#findBlockByCode(terminal, command.commandLine);
    if (!indexed) return;
    let map = this.#recognised.get(terminal);
    if (!map) this.#recognised.set(terminal, (map = new Map()));
    map.set(command.id, indexed);
    this.#setBlock(indexed, { block: indexed.block.id, state: 'running', results: [] });
  }

  #onCommandDone(terminal: string, command: FinishedCommand, job: Job | undefined): void {
    for (const page of this.#pages) {
      if (!page.attachments.has(terminal)) continue;
      page.send({ type: 'command', terminal, command: command.commandLine, exitCode: command.exitCode, durationMs: command.durationMs });
    }
    let indexed = this.#jobBlock(job);
    if (!indexed) {
      const map = this.#recognised.get(terminal);
      indexed = map?.get(command.id);
      map?.delete(command.id);
    }
    if (!indexed) return;
    const results = blockResults(indexed, command);
    this.#setBlock(indexed, {
      block: indexed.block.id,
      state: results.every((r) => r.passed) ? 'passed' : 'failed',
      ...(command.exitCode === null ? {} : { exitCode: command.exitCode }),
      durationMs: command.durationMs,
      results,
    });
    this.#evaluateStep(indexed);
  }

  #findBlockByCode(terminal: string, commandLine: string): IndexedBlock | undefined {
    const wanted = normaliseCommand(commandLine);
    if (!wanted) return undefined;
    const openLessons = new Set([...this.#pages].map((p) => p.lesson));
    let best: IndexedBlock | undefined;
    let bestScore = -1;
    for (const indexed of this.#ctx.course.blocks.values()) {
      if (indexed.block.terminal !== terminal || normaliseCommand(indexed.block.code) !== wanted) continue;
      // Prefer a block of a lesson on screen, then one not yet passed; else the first in course order.
      const score = (openLessons.has(indexed.lesson.id) ? 2 : 0) + (this.#blocks.get(indexed.block.id)?.state === 'passed' ? 0 : 1);
      if (score > bestScore) {
        best = indexed;
        bestScore = score;
      }
    }
    return best;
  }

  #setBlock(indexed: IndexedBlock, status: BlockStatus): void {
    // A disposed learner's shells failing their jobs is no news, and must not be stored (a reset
    // that cleared the progress would get it back).
    if (this.#disposed) return;
    this.#blocks.set(status.block, status);
    if (status.state === 'passed' || status.state === 'failed') this.#ctx.store.putBlock(this.id, status);
    for (const listener of this.#statusListeners) listener({ kind: 'block', status });
    this.#broadcast(indexed.lesson.id, { type: 'block', status });
    if (status.state === 'running' || status.state === 'queued') {
      this.#setStep(indexed.lesson.id, { step: indexed.step.id, state: 'running', results: [], updatedAt: Date.now() }, false);
    }
  }

  #setStep(lesson: string, status: StepStatus, settled: boolean): void {
    if (this.#disposed) return;
    this.#steps.set(status.step, status);
    if (settled) this.#ctx.store.putStep(this.id, status, status.updatedAt);
    for (const listener of this.#statusListeners) listener({ kind: 'step', status });
    this.#broadcast(lesson, { type: 'step', status });
    this.#ctx.onChange?.(this);
  }

  #broadcast(lesson: string, message: ServerMessage): void {
    for (const page of this.#pages) if (page.lesson === lesson) page.send(message);
  }

  /** Decides a step from its blocks and, once they all passed, its state checks. */
  #evaluateStep(indexed: IndexedBlock): void {
    const { step, lesson } = indexed;
    const states = step.blocks.map((b) => this.#blocks.get(b.id)?.state ?? 'idle');
    if (states.some((s) => s === 'running' || s === 'queued')) return;
    this.#checkRuns.get(step.id)?.abort();
    this.#checkRuns.delete(step.id);
    if (states.some((s) => s === 'failed')) {
      // The step says why: each failed block's failing checks, named by block.
      const results: CheckResult[] = step.blocks.flatMap((b) => {
        const status = this.#blocks.get(b.id);
        if (status?.state !== 'failed') return [];
        const failing = status.results.filter((r) => !r.passed);
        if (failing.length === 0) return [{ check: 'exit-code' as const, passed: false, message: `block ${b.id} failed` }];
        return failing.map((r) => ({ ...r, message: `block ${b.id}: ${r.message}` }));
      });
      this.#setStep(lesson.id, { step: step.id, state: 'failed', results, updatedAt: Date.now() }, true);
      return;
    }
    if (states.some((s) => s !== 'passed')) {
      // Some block has not run yet: the step is not decided; show it idle unless it passed before.
      const previous = this.#steps.get(step.id);
      if (previous?.state === 'running') {
        this.#setStep(lesson.id, { step: step.id, state: 'idle', results: [], updatedAt: Date.now() }, true);
      }
      return;
    }
    if (step.checks.length === 0) {
      this.#setStep(lesson.id, { step: step.id, state: 'passed', results: [], updatedAt: Date.now() }, true);
      return;
    }
    const controller = new AbortController();
    this.#checkRuns.set(step.id, controller);
    this.#setStep(lesson.id, { step: step.id, state: 'running', results: [], updatedAt: Date.now() }, false);
    Promise.all(step.checks.map((check, i) => pollStateCheck(this.#ctx.target, this.id, check, i, controller.signal)))
      .then((results) => {
        if (controller.signal.aborted || this.#disposed) return;
        this.#checkRuns.delete(step.id);
        const state = results.every((r) => r.passed) ? 'passed' : 'failed';
        this.#setStep(lesson.id, { step: step.id, state, results, updatedAt: Date.now() }, true);
      })
      .catch((error: unknown) => {
        // A target that throws (rather than returning a failed exec) is a bug there; tell the page.
        this.#ctx.log(`learner ${this.id}: state checks of ${step.id} threw: ${(error as Error).stack ?? String(error)}`);
        const results: CheckResult[] = [{ check: 0, passed: false, message: `the state check could not run: ${(error as Error).message}` }];
        if (!this.#disposed) this.#setStep(lesson.id, { step: step.id, state: 'failed', results, updatedAt: Date.now() }, true);
      });
  }

  // -- step verification and catch-up ---------------------------------------------------------

  /** A step's checks on the lab as it is now, its blocks not run (runner/verify-step.ts). */
  async verifyStep(stepId: string): Promise<ServerMessage> {
    const found = this.#ctx.course.steps.get(stepId);
    if (!found) throw new Error(`unknown step ${stepId}`);
    return await verifyStep(this.#ctx.target, this.id, found.step, this.#ctx.course.blocks);
  }

  /**
   * Runs every block of every step before `lesson` (or before `step` of it) in order, through the
   * ordinary block queue (runner/catch-up.ts); progress goes to the lesson's pages. Refused while
   * another catch-up runs for this learner.
   */
  catchUp(lesson: string, step: string | undefined): { ok: true; done: Promise<void> } | { ok: false; code: ErrorCode; message: string } {
    if (this.#catchUp) return { ok: false, code: 'catch-up-busy', message: 'A catch-up is already running for you; wait for it to finish.' };
    const planned = catchUpPlan(this.#ctx.course, lesson, step);
    if (!planned.ok) return { ok: false, code: 'unknown-step', message: planned.message };
    const controller = new AbortController();
    this.#catchUp = controller;
    const host = {
      runBlock: (indexed: IndexedBlock, interrupt: boolean) => this.runBlock(indexed, interrupt),
      onStatus: (listener: (event: StatusEvent) => void) => {
        this.#statusListeners.add(listener);
        return () => this.#statusListeners.delete(listener);
      },
      endFailures: async () => (this.#disposed ? undefined : await this.#ctx.target.endFailures?.(this.id)),
    };
    const done = runCatchUp(host, this.#ctx.course, planned.plan, (message) => this.#broadcast(lesson, message), { signal: controller.signal })
      .then((final) => this.#ctx.log(`learner ${this.id}: catch-up to ${step ?? lesson} ${final.state}: ${final.message}`))
      .catch((error: unknown) => {
        this.#ctx.log(`learner ${this.id}: catch-up to ${step ?? lesson} threw: ${(error as Error).stack ?? String(error)}`);
        this.#broadcast(lesson, { type: 'catch-up', lesson, state: 'failed', done: 0, total: 0, message: `Catch-up failed: ${(error as Error).message}`, results: [] });
      })
      .finally(() => {
        if (this.#catchUp === controller) this.#catchUp = null;
      });
    return { ok: true, done };
  }

  /** Forgets one lesson's states and tells its pages that every step and block is idle again. */
  resetLesson(lesson: string): void {
    this.#ctx.store.resetLesson(this.id, lesson);
    const course = this.#ctx.course.lessons.get(lesson);
    if (!course) return;
    for (const step of course.steps) {
      this.#checkRuns.get(step.id)?.abort();
      this.#checkRuns.delete(step.id);
      this.#steps.delete(step.id);
      this.#broadcast(lesson, { type: 'step', status: { step: step.id, state: 'idle', results: [] } });
      for (const block of step.blocks) {
        this.#blocks.delete(block.id);
        this.#broadcast(lesson, { type: 'block', status: { block: block.id, state: 'idle', results: [] } });
      }
    }
    this.#ctx.onChange?.(this);
  }

  /** Ends every shell and check and releases the target's resources; idempotent. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const controller of this.#checkRuns.values()) controller.abort();
    this.#checkRuns.clear();
    this.topology.dispose();
    this.#startupWatch?.dispose();
    this.#catchUp?.abort();
    for (const page of this.#pages) page.attachments.clear();
    this.#pages.clear();
    // The runner ends these shells itself: nothing to restore later.
    for (const keeper of this.#screenKeepers.values()) keeper.dispose();
    this.#screenKeepers.clear();
    this.#ctx.store.deleteScreens(this.id);
    const terminals = [...this.#terminals.values()];
    this.#terminals.clear();
    for (const terminal of terminals) terminal.dispose();
    // Released at once (the target forgets the learner's lab before its first await), so a page
    // that reconnects meanwhile (a reset) gets a new lab, never a shell in this one.
    const released = this.#ctx.target.disposeLearner(this.id);
    await Promise.all(terminals.map((t) => t.waitForExit()));
    await released;
  }
}
