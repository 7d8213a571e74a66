// Entry point of a lesson page: defines the page's custom elements, opens the session, gives each
// terminal an xterm, and routes the runner's frames to the terminals, blocks, steps and progress.

import '@xterm/xterm/css/xterm.css';
import { terminalSpecSchema, type BlockStatus, type ServerMessage, type StepState, type StepStatus } from '../../runner/protocol.ts';
import { CATCH_UP_EVENT, CatchUpBarElement } from './catch-up.ts';
import { LAB_RESET_EVENT, LabResetElement, type LabResetRequest } from './lab-reset.ts';
import { LabStartupElement, STARTUP_RETRY_EVENT } from './lab-startup.ts';
import { LessonProgressElement, LessonStepElement, updateChecks } from './lesson-step.ts';
import { RUN_EVENT, RunBlockElement, STOP_EVENT, type RunRequest } from './run-block.ts';
import { LessonSession, type ConnectionState } from './session.ts';
import { SplitPaneElement } from './split-pane.ts';
import { TERMINAL_SELECT_EVENT, TerminalPanelElement } from './terminal-panel.ts';
import { TerminalView } from './terminal-view.ts';
import { LabTopologyElement, TOPOLOGY_TOGGLE_EVENT } from './topology-view.ts';

customElements.define('run-block', RunBlockElement);
customElements.define('lesson-step', LessonStepElement);
customElements.define('lesson-progress', LessonProgressElement);
customElements.define('split-pane', SplitPaneElement);
customElements.define('terminal-panel', TerminalPanelElement);
customElements.define('catch-up-bar', CatchUpBarElement);
customElements.define('lab-topology', LabTopologyElement);
customElements.define('lab-startup', LabStartupElement);
customElements.define('lab-reset', LabResetElement);

const CONNECTION_TEXT: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
};

class LessonPage {
  readonly #root: HTMLElement;
  readonly #lesson: string;
  readonly #session: LessonSession;
  readonly #views = new Map<string, TerminalView>();
  readonly #byChannel = new Map<number, TerminalView>();
  readonly #stepStates = new Map<string, StepState>();
  readonly #panel: TerminalPanelElement | null;
  /** The "Catch up" action, on lessons that have earlier steps. */
  readonly #catchUp: CatchUpBarElement | null;
  /** The lab's start-up progress, above the terminals. */
  readonly #startup: LabStartupElement | null;
  /** The live lab view, on lessons that show it (`topology: true`). */
  readonly #topology: LabTopologyElement | null;

  constructor(root: HTMLElement) {
    this.#root = root;
    this.#lesson = root.dataset.lesson ?? '';
    this.#panel = root.querySelector<TerminalPanelElement>('terminal-panel');
    this.#catchUp = root.querySelector<CatchUpBarElement>('catch-up-bar');
    this.#topology = root.querySelector<LabTopologyElement>('lab-topology');
    this.#startup = root.querySelector<LabStartupElement>('lab-startup');
    this.#session = new LessonSession(this.#lesson, {
      state: (state, detail) => this.#connection(state, detail),
      message: (message) => this.#message(message),
      output: (channel, data) => this.#output(channel, data),
      problem: (message) => this.#notice(message),
    });
    const terminals = terminalSpecSchema.array().parse(JSON.parse(root.dataset.terminals ?? '[]'));
    for (const spec of terminals) {
      const screen = root.querySelector<HTMLElement>(`[data-terminal-screen="${CSS.escape(spec.name)}"]`);
      if (screen) this.#views.set(spec.name, new TerminalView(spec.name, screen, this.#session));
    }
    root.addEventListener(RUN_EVENT, (event) => this.#run((event as CustomEvent<RunRequest>).detail, event.target as RunBlockElement));
    root.addEventListener(TERMINAL_SELECT_EVENT, (event) => {
      const view = this.#views.get((event as CustomEvent<string>).detail);
      // A tab brought to the front shows its newest output, fitted to the pane.
      requestAnimationFrame(() => {
        view?.fit();
        view?.terminal.scrollToBottom();
      });
    });
    root.addEventListener('split-change', () => this.#fitAll());
    root.addEventListener(CATCH_UP_EVENT, () => {
      if (this.#session.send({ type: 'catch-up' })) this.#catchUp?.markRequested();
      else this.#catchUp?.setError('Not connected to the runner; Catch up works once the page reconnects.');
    });
    root.addEventListener(STOP_EVENT, (event) => {
      const terminal = (event as CustomEvent<string>).detail;
      if (!this.#session.send({ type: 'interrupt', terminal })) this.#notice('Not connected to the runner; Stop works once the page reconnects.');
    });
    root.addEventListener(LAB_RESET_EVENT, (event) => {
      const { clearProgress } = (event as CustomEvent<LabResetRequest>).detail;
      if (!this.#session.send({ type: 'reset-lab', clearProgress })) {
        this.#notice('Not connected to the runner; Reset lab works once the page reconnects.');
        return;
      }
      // The runner ends this page's connection; the page reconnects to the fresh lab, whose start
      // (on a target that reports one) is shown from the beginning.
      if (this.#startup?.progress) this.#startup.update({ state: 'starting', phases: [] });
    });
    // Retry: the runner starts the lab anew, and the terminals the failed start refused open again.
    root.addEventListener(STARTUP_RETRY_EVENT, () => {
      this.#session.send({ type: 'retry-startup' });
      this.#openTerminals();
    });
    root.addEventListener(TOPOLOGY_TOGGLE_EVENT, () => requestAnimationFrame(() => this.#fitAll()));
    window.addEventListener('resize', () => this.#fitAll());
    root.querySelector('[data-role="notice"]')?.addEventListener('click', (event) => {
      if ((event.target as HTMLElement).closest('[data-action="dismiss"]')) this.#notice(undefined);
    });
    // For tests and bug reports: the text of a terminal, as drawn, and its size.
    Object.assign(window, {
      courseTerminalText: (name: string) => this.#views.get(name)?.text() ?? '',
      courseTerminalSize: (name: string) => this.#views.get(name)?.size,
    });
    this.#fitAll();
    this.#session.start();
  }

  #fitAll(): void {
    for (const view of this.#views.values()) view.fit();
  }

  #connection(state: ConnectionState, detail: string): void {
    const element = document.querySelector<HTMLElement>('connection-status');
    if (element) {
      element.dataset.state = state;
      element.title = detail;
      const text = element.querySelector('.connection__text');
      if (text) text.textContent = CONNECTION_TEXT[state];
    }
    this.#root.dataset.connection = state;
    const ready = state === 'connected';
    this.#enableRuns();
    this.#catchUp?.setEnabled(ready);
    this.#root.querySelector<LabResetElement>('lab-reset')?.setEnabled(ready);
    if (!ready) {
      this.#topology?.markStale();
      for (const view of this.#views.values()) view.detach();
      this.#byChannel.clear();
    }
  }

  #message(message: ServerMessage): void {
    switch (message.type) {
      case 'welcome': {
        this.#notice(undefined);
        // The welcome is the whole truth: anything it does not mention is idle again.
        const steps = new Map(message.steps.map((status) => [status.step, status]));
        const blocks = new Map(message.blocks.map((status) => [status.block, status]));
        const stepIds = JSON.parse(this.#root.querySelector<HTMLElement>('lesson-progress')?.dataset.steps ?? '[]') as string[];
        for (const step of stepIds) this.#step(steps.get(step) ?? { step, state: 'idle', results: [] });
        for (const status of message.steps) if (!stepIds.includes(status.step)) this.#step(status);
        for (const element of this.#blocks()) this.#block(blocks.get(element.block) ?? { block: element.block, state: 'idle', results: [] });
        this.#openTerminals();
        void this.#catchUp?.refresh();
        if (this.#topology) this.#session.send({ type: 'watch-topology' });
        break;
      }
      case 'topology':
        this.#topology?.update(message);
        break;
      case 'startup': {
        const { type: _type, ...progress } = message;
        this.#startup?.update(progress);
        this.#enableRuns();
        // Terminals the failed start refused are opened again on Retry; after a reconnect the
        // welcome opened them already.
        break;
      }
      case 'opened': {
        const view = this.#views.get(message.terminal);
        if (!view) break;
        for (const [channel, other] of this.#byChannel) if (other === view) this.#byChannel.delete(channel);
        view.attach(message.channel);
        this.#byChannel.set(message.channel, view);
        break;
      }
      case 'exited': {
        const view = this.#views.get(message.terminal);
        if (!view) break;
        for (const [channel, other] of this.#byChannel) if (other === view) this.#byChannel.delete(channel);
        view.ended(message.exitCode, () => this.#session.send({ type: 'open', terminal: view.name, size: view.size }));
        break;
      }
      case 'command':
        // Typed commands are recognised by the runner; their effect shows up as block/step frames.
        break;
      case 'catch-up':
        this.#catchUp?.update(message);
        break;
      case 'block':
        this.#block(message.status);
        break;
      case 'step':
        this.#step(message.status);
        break;
      case 'error': {
        if (message.code === 'catch-up-busy' && this.#catchUp) {
          this.#catchUp.setError(message.message);
          break;
        }
        const block = message.ref ? this.#blocks().find((candidate) => candidate.block === message.ref) : undefined;
        // A terminal refused because the lab did not start: the start-up panel says so, with Retry.
        if (message.code === 'spawn-failed' && !block && this.#startup?.progress?.state === 'failed') break;
        if (block) block.setError(message.message);
        else this.#notice(`${message.message} (${message.code}${message.ref ? `, ${message.ref}` : ''})`);
        break;
      }
    }
  }

  #openTerminals(): void {
    for (const view of this.#views.values()) {
      this.#session.send({ type: 'open', terminal: view.name, size: view.size });
    }
  }

  #output(channel: number, data: Uint8Array): void {
    const view = this.#byChannel.get(channel);
    if (!view) return;
    view.write(data);
    this.#panel?.markActivity(view.name);
  }

  #run(request: RunRequest, element: RunBlockElement): void {
    if (!this.#session.send({ type: 'run', block: request.block })) {
      element.setError('Not connected to the runner; the block will be runnable once the page reconnects.');
      return;
    }
    element.markRequested();
    this.#panel?.select(request.terminal);
  }

  /** Blocks run once the page is connected and the lab (if any) has started. */
  #enableRuns(): void {
    const connected = this.#root.dataset.connection === 'connected';
    const starting = this.#startup?.starting ?? false;
    for (const block of this.#blocks()) block.setEnabled(connected && !starting, starting);
  }

  #block(status: BlockStatus): void {
    for (const block of this.#blocks()) if (block.block === status.block) block.setStatus(status);
  }

  #step(status: StepStatus): void {
    this.#stepStates.set(status.step, status.state);
    for (const step of this.#root.querySelectorAll<LessonStepElement>('lesson-step')) if (step.step === status.step) step.setStatus(status);
    for (const block of this.#blocks()) {
      if (block.dataset.ownStep === 'true' && block.dataset.step === status.step) block.dataset.stepState = status.state;
    }
    updateChecks(this.#root, status);
    this.#root.querySelector<LessonProgressElement>('lesson-progress')?.update(this.#stepStates);
  }

  #blocks(): RunBlockElement[] {
    return [...this.#root.querySelectorAll<RunBlockElement>('run-block')];
  }

  #notice(message: string | undefined): void {
    const notice = this.#root.querySelector<HTMLElement>('[data-role="notice"]');
    if (!notice) return;
    if (message === undefined) {
      notice.hidden = true;
      notice.replaceChildren();
      return;
    }
    const text = document.createElement('span');
    text.textContent = message;
    const dismiss = document.createElement('button');
    dismiss.type = 'button';
    dismiss.className = 'button button--ghost';
    dismiss.dataset.action = 'dismiss';
    dismiss.textContent = 'Dismiss';
    notice.replaceChildren(text, dismiss);
    notice.hidden = false;
  }
}

const root = document.querySelector<HTMLElement>('lesson-page');
if (root) new LessonPage(root);
