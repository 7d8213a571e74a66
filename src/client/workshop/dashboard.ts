// The instructor's dashboard: the room over the instructor socket (the secret from the URL
// fragment, which never reaches a server log), a grid of learners x steps kept up to date row by
// row, time on the current step against the room's median, and the actions: watch a terminal
// (read-only xterm), hint, message to all, reset a lab, catch-up, open/lock lessons, export.

import '@xterm/xterm/css/xterm.css';
import '../../styles/workshop.css';
import { Terminal } from '@xterm/xterm';
import {
  WORKSHOP_EXPORT_PATH,
  WORKSHOP_INSTRUCTOR_WEBSOCKET_PATH,
  decodeChannelFrame,
  parseInstructorServerMessage,
  type InstructorMessage,
  type InstructorServerMessage,
  type StepState,
  type WorkshopLearnerRow,
  type WorkshopRoom,
} from '../../../runner/protocol.ts';

const KEY_STORAGE = 'workshop-instructor-key';
/** Someone on a step this much longer than the room's median stands out, and this long at least. */
const SLOW_FACTOR = 1.5;
const STUCK_FACTOR = 2;
const SLOW_MIN_MS = 2 * 60_000;
const STUCK_MIN_MS = 3 * 60_000;
const RETRY_FIRST_MS = 300;
const RETRY_MAX_MS = 5_000;
/** A reset needs a second click within this long. */
const CONFIRM_MS = 4_000;
const LOG_ENTRIES = 6;

type Sort = 'joined' | 'name' | 'progress' | 'stuck';

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 3600) return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}`;
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function readKey(): string | null {
  const hash = new URLSearchParams(location.hash.slice(1));
  const fromHash = hash.get('key');
  if (fromHash) {
    sessionStorage.setItem(KEY_STORAGE, fromHash);
    // Out of the address bar, so that projecting the dashboard does not show the secret.
    history.replaceState(null, '', location.pathname + location.search);
    return fromHash;
  }
  return sessionStorage.getItem(KEY_STORAGE);
}

class Dashboard extends HTMLElement {
  #key: string | null = null;
  #socket: WebSocket | undefined;
  #attempt = 0;
  #room: WorkshopRoom | null = null;
  readonly #rows = new Map<string, WorkshopLearnerRow>();
  readonly #rowElements = new Map<string, HTMLTableRowElement>();
  /** Server clock minus ours, so times on step do not depend on the laptop's clock. */
  #skew = 0;
  #sort: Sort = 'joined';
  #selected: string | null = null;
  #watching: { seat: string; terminal: string } | null = null;
  #terminal: Terminal | null = null;
  #confirmReset = 0;

  connectedCallback(): void {
    this.#key = readKey();
    if (!this.#key) {
      this.#setState('no-key');
      this.#q('name').textContent = 'No instructor key';
      this.#q('meta').textContent = 'Open the dashboard URL that the workshop command printed: it carries the key after “#key=”.';
      return;
    }
    this.#wire();
    this.#connect();
    setInterval(() => this.#tick(), 1000);
  }

  #q<T extends HTMLElement = HTMLElement>(role: string): T {
    return this.querySelector<T>(`[data-role="${role}"]`)!;
  }

  #setState(state: string): void {
    this.dataset.state = state;
  }

  #send(message: InstructorMessage): void {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(message));
    else this.#log('error', 'Not connected to the runner; try again in a moment.');
  }

  #connect(): void {
    const url = new URL(WORKSHOP_INSTRUCTOR_WEBSOCKET_PATH, location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('key', this.#key!);
    const socket = new WebSocket(url);
    socket.binaryType = 'arraybuffer';
    this.#socket = socket;
    socket.addEventListener('open', () => {
      this.#attempt = 0;
      this.#setState('connected');
      // A watch does not survive a reconnect: ask again.
      if (this.#watching) this.#send({ type: 'watch', seat: this.#watching.seat, terminal: this.#watching.terminal });
    });
    socket.addEventListener('message', (event: MessageEvent<string | ArrayBuffer>) => {
      if (typeof event.data !== 'string') {
        const frame = decodeChannelFrame(new Uint8Array(event.data));
        if (frame && this.#watching) this.#terminal?.write(frame.data);
        return;
      }
      const parsed = parseInstructorServerMessage(event.data);
      if (!parsed.ok) {
        this.#log('error', `The runner sent a frame this dashboard does not understand: ${parsed.message}`);
        return;
      }
      this.#message(parsed.value);
    });
    socket.addEventListener('close', () => {
      if (this.#socket !== socket) return;
      this.#setState('reconnecting');
      const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** this.#attempt++);
      setTimeout(() => this.#connect(), delay);
    });
  }

  #message(message: InstructorServerMessage): void {
    switch (message.type) {
      case 'room':
        this.#skew = message.now - Date.now();
        this.#room = message.room;
        this.#renderRoom();
        this.#renderHead();
        this.#renderBody();
        return;
      case 'learners':
        this.#skew = message.now - Date.now();
        this.#rows.clear();
        for (const row of message.learners) this.#rows.set(row.seat, row);
        this.#renderHead();
        this.#renderBody();
        return;
      case 'learner': {
        this.#skew = message.now - Date.now();
        const isNew = !this.#rows.has(message.learner.seat);
        this.#rows.set(message.learner.seat, message.learner);
        if (isNew || this.#sort !== 'joined') this.#renderBody();
        else this.#renderRow(message.learner);
        this.#renderCounts();
        if (this.#selected === message.learner.seat) this.#renderDrawer();
        return;
      }
      case 'watching':
        this.#q('watch-status').textContent = `Watching ${message.terminal}`;
        this.#q('watch-status').dataset.state = 'live';
        return;
      case 'watch-ended':
        if (this.#watching?.seat === message.seat) {
          this.#watching = null;
          this.#q('watch-status').textContent = `Stopped: ${message.reason}`;
          this.#q('watch-status').dataset.state = 'ended';
          this.#q<HTMLButtonElement>('drawer').querySelector<HTMLButtonElement>('[data-action="watch"]')!.textContent = 'Watch';
        }
        return;
      case 'done':
        this.#log('done', message.message);
        return;
      case 'error':
        this.#log('error', message.message);
        return;
    }
  }

  #now(): number {
    return Date.now() + this.#skew;
  }

  // -- rendering -------------------------------------------------------------------------------

  #steps(): { id: string; title: string; lesson: string; locked: boolean; index: number }[] {
    const steps: { id: string; title: string; lesson: string; locked: boolean; index: number }[] = [];
    this.#room?.lessons.forEach((lesson, l) =>
      lesson.steps.forEach((step, s) => steps.push({ id: step.id, title: `${l + 1}.${s + 1} ${step.title}`, lesson: lesson.id, locked: lesson.locked, index: s })),
    );
    return steps;
  }

  #renderRoom(): void {
    const room = this.#room!;
    this.#q('name').textContent = room.name;
    this.#q('join-url').textContent = room.joinUrl;
    this.#q('code').textContent = room.code;
    const started = new Date(room.startedAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    const ends = room.endsAt ? ` · ends ${new Date(room.endsAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}` : '';
    this.#q('meta').textContent = `Started ${started}${ends}`;
    const lessons = this.#q('lessons');
    lessons.replaceChildren(
      ...room.lessons.map((lesson, i) => {
        const chip = el('button', 'wsd-lesson');
        chip.type = 'button';
        chip.dataset.lesson = lesson.id;
        chip.dataset.locked = String(lesson.locked);
        chip.title = lesson.locked ? `Open “${lesson.title}” to the room` : `Lock “${lesson.title}”`;
        chip.append(el('span', 'wsd-lesson__n', String(i + 1)), el('span', 'wsd-lesson__title', lesson.title), el('span', 'wsd-lesson__state', lesson.locked ? 'Locked' : 'Open'));
        chip.addEventListener('click', () => this.#send({ type: 'set-lock', lesson: lesson.id, locked: !lesson.locked }));
        return chip;
      }),
    );
    this.querySelector<HTMLElement>('[data-role="catchup"]')!.hidden = !room.features.includes('catch-up');
  }

  #renderHead(): void {
    const head = this.#q('grid-head');
    const room = this.#room;
    if (!room) return;
    const top = el('tr', 'wsd-grid__lessons');
    top.append(el('th', 'wsd-col-name', ''), el('th', 'wsd-col-current', ''));
    room.lessons.forEach((lesson, i) => {
      if (lesson.steps.length === 0) return;
      const wide = lesson.steps.length >= 3;
      const label = `${wide ? 'Lesson ' : 'L'}${i + 1}${lesson.locked && lesson.steps.length >= 4 ? ' · locked' : ''}`;
      const th = el('th', `wsd-lesson-head${lesson.locked ? ' is-locked' : ''}`, label);
      th.colSpan = lesson.steps.length;
      th.title = lesson.title;
      top.append(th);
    });
    top.append(el('th', 'wsd-col-failure', ''));
    const names = el('tr', 'wsd-grid__steps');
    names.append(el('th', 'wsd-col-name', 'Learner'), el('th', 'wsd-col-current', 'On step'));
    for (const step of this.#steps()) {
      const th = el('th', `wsd-step-head${step.locked ? ' is-locked' : ''}`);
      th.title = step.title;
      th.dataset.step = step.id;
      th.append(el('span', 'wsd-step-head__n', String(step.index + 1)), el('span', 'wsd-step-head__count', '0'), el('span', 'wsd-step-head__bar'));
      names.append(th);
    }
    names.append(el('th', 'wsd-col-failure', 'Last failing check'));
    head.replaceChildren(top, names);
    this.#renderCounts();
  }

  #renderCounts(): void {
    const total = this.#rows.size;
    for (const th of this.querySelectorAll<HTMLElement>('.wsd-step-head')) {
      const step = th.dataset.step!;
      let done = 0;
      for (const row of this.#rows.values()) if (row.steps[step] === 'passed') done++;
      th.querySelector('.wsd-step-head__count')!.textContent = String(done);
      th.querySelector<HTMLElement>('.wsd-step-head__bar')!.style.setProperty('--done', String(total ? done / total : 0));
      th.dataset.done = String(done);
    }
    let online = 0;
    for (const row of this.#rows.values()) if (row.online) online++;
    this.#q('stat-online').textContent = String(online);
    this.#q('stat-learners').textContent = String(total);
    this.#q('empty').hidden = total > 0;
  }

  #sorted(): WorkshopLearnerRow[] {
    const rows = [...this.#rows.values()];
    const passed = (r: WorkshopLearnerRow) => Object.values(r.steps).filter((s) => s === 'passed').length;
    switch (this.#sort) {
      case 'joined':
        return rows.sort((a, b) => a.joinedAt - b.joinedAt);
      case 'name':
        return rows.sort((a, b) => a.name.localeCompare(b.name));
      case 'progress':
        return rows.sort((a, b) => passed(b) - passed(a) || a.name.localeCompare(b.name));
      case 'stuck':
        return rows.sort((a, b) => (b.current ? this.#now() - b.currentSince : -1) - (a.current ? this.#now() - a.currentSince : -1));
    }
  }

  #renderBody(): void {
    const body = this.#q('grid-body');
    const rows = this.#sorted();
    for (const seat of this.#rowElements.keys()) if (!this.#rows.has(seat)) this.#rowElements.delete(seat);
    body.replaceChildren(...rows.map((row) => this.#renderRow(row)));
    this.#renderCounts();
    this.#tick();
  }

  #renderRow(row: WorkshopLearnerRow): HTMLTableRowElement {
    let tr = this.#rowElements.get(row.seat);
    const steps = this.#steps();
    if (!tr) {
      tr = el('tr', 'wsd-row');
      tr.dataset.seat = row.seat;
      tr.tabIndex = 0;
      tr.addEventListener('click', () => this.#select(row.seat));
      tr.addEventListener('keydown', (event) => {
        if (event.key === 'Enter') this.#select(row.seat);
      });
      this.#rowElements.set(row.seat, tr);
    }
    tr.classList.toggle('is-selected', this.#selected === row.seat);
    tr.dataset.online = String(row.online);
    const name = el('td', 'wsd-col-name');
    const dot = el('span', 'wsd-dot');
    dot.title = row.online ? 'online' : `last seen ${new Date(row.lastSeenAt).toLocaleTimeString()}`;
    name.append(dot, el('span', 'wsd-name', row.name));
    const current = el('td', 'wsd-col-current');
    const step = steps.find((s) => s.id === row.current);
    current.append(el('span', 'wsd-current__step', step ? step.title.split(' ')[0]! : 'done'), el('span', 'wsd-time', ''));
    if (step) current.title = step.title;
    const cells = steps.map((s) => {
      const td = el('td', 'wsd-cell');
      const state: StepState = row.steps[s.id] ?? 'idle';
      td.dataset.state = state;
      td.dataset.step = s.id;
      if (s.id === row.current) td.dataset.current = 'true';
      td.title = `${s.title}: ${state}`;
      td.append(el('span', 'wsd-cell__box'));
      return td;
    });
    const failure = el('td', 'wsd-col-failure');
    if (row.lastFailure) {
      const f = row.lastFailure;
      const fstep = steps.find((s) => s.id === f.step);
      failure.append(el('span', 'wsd-failure__step', fstep ? fstep.title.split(' ')[0]! : f.step), el('span', 'wsd-failure__text', f.message));
      failure.title = f.diff ? `${f.message}\n\n${f.diff}` : f.message;
    }
    tr.replaceChildren(name, current, ...cells, failure);
    return tr;
  }

  /** Times on step and who stands out, every second. */
  #tick(): void {
    const now = this.#now();
    const times: number[] = [];
    for (const row of this.#rows.values()) if (row.current) times.push(now - row.currentSince);
    const m = median(times);
    let stuck = 0;
    for (const row of this.#rows.values()) {
      const tr = this.#rowElements.get(row.seat);
      const time = tr?.querySelector<HTMLElement>('.wsd-time');
      if (!tr || !time) continue;
      if (!row.current) {
        time.textContent = '';
        tr.dataset.pace = 'done';
        continue;
      }
      const t = now - row.currentSince;
      time.textContent = formatDuration(t);
      let pace = 'ok';
      if (m !== null && t > Math.max(STUCK_FACTOR * m, STUCK_MIN_MS)) pace = 'stuck';
      else if (m !== null && t > Math.max(SLOW_FACTOR * m, SLOW_MIN_MS)) pace = 'slow';
      if (pace === 'stuck') stuck++;
      tr.dataset.pace = pace;
      time.title = m === null ? '' : `${formatDuration(t)} on this step; the room's median is ${formatDuration(m)}`;
    }
    this.#q('stat-median').textContent = m === null ? '–' : formatDuration(m);
    this.#q('stat-stuck').textContent = String(stuck);
  }

  // -- the drawer ------------------------------------------------------------------------------

  #select(seat: string | null): void {
    if (this.#selected !== seat && this.#watching) {
      this.#send({ type: 'unwatch' });
      this.#watching = null;
      this.#terminal?.reset();
      this.#q('watch-status').textContent = '';
    }
    this.#selected = seat;
    for (const [s, tr] of this.#rowElements) tr.classList.toggle('is-selected', s === seat);
    this.#q('drawer').hidden = seat === null;
    this.dataset.drawer = String(seat !== null);
    this.#renderDrawer();
  }

  #renderDrawer(): void {
    const row = this.#selected ? this.#rows.get(this.#selected) : undefined;
    if (!row) return;
    const drawer = this.#q('drawer');
    drawer.dataset.seat = row.seat;
    this.#q('drawer-name').textContent = row.name;
    const steps = this.#steps();
    const passed = Object.values(row.steps).filter((s) => s === 'passed').length;
    const current = steps.find((s) => s.id === row.current);
    this.#q('drawer-meta').textContent = `${row.online ? 'Online' : 'Offline'} · ${passed} of ${steps.length} steps · ${current ? `on ${current.title}` : 'done with the open lessons'}`;
    const select = this.#q<HTMLSelectElement>('watch-terminal');
    const previous = select.value;
    select.replaceChildren(...row.terminals.map((t) => Object.assign(el('option', '', t), { value: t })));
    if (row.terminals.includes(previous)) select.value = previous;
    select.disabled = row.terminals.length === 0;
    const watchButton = drawer.querySelector<HTMLButtonElement>('[data-action="watch"]')!;
    watchButton.disabled = row.terminals.length === 0 && !this.#watching;
    if (row.terminals.length === 0 && !this.#watching) {
      this.#q('watch-status').textContent = 'No terminal running: the learner has not opened a lesson page yet.';
    }
    const failure = row.lastFailure;
    this.#q('failure-section').hidden = !failure;
    if (failure) {
      const fstep = steps.find((s) => s.id === failure.step);
      this.#q('failure-message').textContent = `${fstep?.title ?? failure.step}: ${failure.message}`;
      this.#q('failure-diff').textContent = failure.diff ?? '';
      this.#q('failure-diff').hidden = !failure.diff;
    }
    const catchup = this.#q<HTMLSelectElement>('catchup-step');
    if (catchup.dataset.for !== row.seat || catchup.options.length !== steps.length) {
      catchup.replaceChildren(...steps.map((s) => Object.assign(el('option', '', s.title), { value: s.id })));
      catchup.dataset.for = row.seat;
      if (row.current) catchup.value = row.current;
    }
  }

  #ensureTerminal(): Terminal {
    if (this.#terminal) return this.#terminal;
    const terminal = new Terminal({
      disableStdin: true,
      cursorBlink: false,
      cols: 88,
      rows: 26,
      fontSize: 11,
      fontFamily: '"JetBrains Mono", "SFMono-Regular", ui-monospace, Menlo, Consolas, monospace',
      scrollback: 2000,
      theme: { background: '#101624', foreground: '#d7dde8', cursor: '#101624' },
    });
    terminal.open(this.#q('watch-screen'));
    this.#terminal = terminal;
    Object.assign(window, { workshopWatchText: () => textOf(terminal) });
    return terminal;
  }

  // -- actions ---------------------------------------------------------------------------------

  #wire(): void {
    this.#q<HTMLSelectElement>('sort').addEventListener('change', (event) => {
      this.#sort = (event.target as HTMLSelectElement).value as Sort;
      this.#renderBody();
    });
    this.#q<HTMLFormElement>('broadcast-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const input = (event.target as HTMLFormElement).elements.namedItem('text') as HTMLInputElement;
      if (!input.value.trim()) return;
      this.#send({ type: 'broadcast', text: input.value.trim() });
      input.value = '';
    });
    this.#q<HTMLFormElement>('hint-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const input = (event.target as HTMLFormElement).elements.namedItem('text') as HTMLTextAreaElement;
      if (!input.value.trim() || !this.#selected) return;
      this.#send({ type: 'hint', seat: this.#selected, text: input.value.trim() });
      input.value = '';
    });
    this.addEventListener('click', (event) => {
      const button = (event.target as HTMLElement).closest<HTMLButtonElement>('button[data-action]');
      if (!button) return;
      const seat = this.#selected;
      switch (button.dataset.action) {
        case 'close-drawer':
          this.#select(null);
          return;
        case 'export':
          void this.#export(button.dataset.format === 'csv' ? 'csv' : 'json');
          return;
        case 'watch': {
          if (!seat) return;
          if (this.#watching) {
            this.#send({ type: 'unwatch' });
            this.#watching = null;
            button.textContent = 'Watch';
            this.#q('watch-status').textContent = '';
            return;
          }
          const terminal = this.#q<HTMLSelectElement>('watch-terminal').value;
          if (!terminal) return;
          this.#ensureTerminal().reset();
          this.#watching = { seat, terminal };
          this.#q('watch-status').textContent = 'Connecting…';
          button.textContent = 'Stop';
          this.#send({ type: 'watch', seat, terminal });
          return;
        }
        case 'catch-up': {
          const step = this.#q<HTMLSelectElement>('catchup-step').value;
          if (seat && step) this.#send({ type: 'catch-up', seat, step });
          return;
        }
        case 'reset': {
          if (!seat) return;
          if (Date.now() - this.#confirmReset > CONFIRM_MS) {
            this.#confirmReset = Date.now();
            button.textContent = 'Click again to reset';
            button.dataset.confirm = 'true';
            setTimeout(() => {
              button.textContent = 'Reset lab…';
              delete button.dataset.confirm;
            }, CONFIRM_MS);
            return;
          }
          this.#confirmReset = 0;
          button.textContent = 'Reset lab…';
          delete button.dataset.confirm;
          this.#send({ type: 'reset-lab', seat });
          return;
        }
      }
    });
  }

  async #export(format: 'csv' | 'json'): Promise<void> {
    try {
      const response = await fetch(`${WORKSHOP_EXPORT_PATH}?format=${format}`, { headers: { Authorization: `Bearer ${this.#key}` }, cache: 'no-store' });
      if (!response.ok) throw new Error(`the runner answered ${response.status}`);
      const blob = await response.blob();
      const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? `workshop.${format}`;
      const link = el('a');
      link.href = URL.createObjectURL(blob);
      link.download = name;
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    } catch (error) {
      this.#log('error', `Export failed: ${(error as Error).message}`);
    }
  }

  #log(kind: 'done' | 'error', text: string): void {
    const log = this.#q('log');
    const item = el('li', `wsd-log__item wsd-log__item--${kind}`, text);
    item.dataset.kind = kind;
    log.append(item);
    while (log.children.length > LOG_ENTRIES) log.firstElementChild?.remove();
    setTimeout(() => item.classList.add('is-old'), 8000);
  }
}

function textOf(terminal: Terminal): string {
  const buffer = terminal.buffer.active;
  const lines: string[] = [];
  for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i)?.translateToString(true) ?? '');
  return lines.join('\n').trimEnd();
}

customElements.define('workshop-dashboard', Dashboard);
