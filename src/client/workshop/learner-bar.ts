// On every learner page during a workshop: sends a browser that has not joined to the join form,
// shows the workshop in the top bar, the instructor's hints and messages as dismissable notices,
// and the lessons the instructor has not opened yet as locked. Outside a workshop it does nothing
// (the status endpoint is not there).

import '../../styles/workshop.css';
import {
  SESSION_PATH,
  WORKSHOP_DASHBOARD_PAGE,
  WORKSHOP_JOIN_PAGE,
  WORKSHOP_LEARNER_WEBSOCKET_PATH,
  WORKSHOP_STATUS_PATH,
  parseWorkshopLearnerMessage,
  sessionResponseSchema,
  workshopStatusResponseSchema,
  type WorkshopLearnerMessage,
  type WorkshopNotice,
} from '../../../runner/protocol.ts';

const DISMISSED_KEY = 'workshop-dismissed-notices';
/** Dismissed notice ids kept; older ones are never sent again anyway. */
const MAX_DISMISSED = 200;
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 5_000;

function dismissed(): string[] {
  try {
    const value = JSON.parse(localStorage.getItem(DISMISSED_KEY) ?? '[]') as unknown;
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return []; // unreadable storage: every notice shows again, which is harmless
  }
}

function dismiss(id: string): void {
  const ids = [...dismissed().filter((d) => d !== id), id].slice(-MAX_DISMISSED);
  try {
    localStorage.setItem(DISMISSED_KEY, JSON.stringify(ids));
  } catch {
    // storage full or disabled: the notice is gone from this page, it may come back on reload
  }
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  element.className = className;
  if (text !== undefined) element.textContent = text;
  return element;
}

class LearnerBar {
  readonly #stack = el('div', 'ws-notices');
  readonly #badge = el('span', 'ws-badge');
  #endsAt: number | null = null;
  #attempt = 0;
  #shown = new Set<string>();

  constructor() {
    this.#stack.setAttribute('aria-live', 'polite');
    this.#stack.dataset.role = 'workshop-notices';
    document.body.append(this.#stack);
    this.#badge.dataset.role = 'workshop-badge';
    const topbar = document.querySelector('.topbar');
    topbar?.insertBefore(this.#badge, topbar.querySelector('.topbar__spacer')?.nextSibling ?? null);
    setInterval(() => this.#tick(), 30_000);
  }

  async connect(): Promise<void> {
    let token: string;
    try {
      const response = await fetch(SESSION_PATH, { cache: 'no-store' });
      if (!response.ok) throw new Error(String(response.status));
      token = sessionResponseSchema.parse(await response.json()).token;
    } catch {
      this.#retry();
      return;
    }
    const url = new URL(WORKSHOP_LEARNER_WEBSOCKET_PATH, location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.searchParams.set('token', token);
    const socket = new WebSocket(url);
    socket.addEventListener('message', (event: MessageEvent<string>) => {
      if (typeof event.data !== 'string') return;
      const parsed = parseWorkshopLearnerMessage(event.data);
      if (parsed.ok) this.#message(parsed.value);
      else console.warn('workshop: unexpected frame', parsed.message);
    });
    socket.addEventListener('open', () => (this.#attempt = 0));
    socket.addEventListener('close', () => this.#retry());
  }

  #retry(): void {
    const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** this.#attempt++);
    setTimeout(() => void this.connect(), delay);
  }

  #message(message: WorkshopLearnerMessage): void {
    switch (message.type) {
      case 'workshop':
        this.#endsAt = message.endsAt;
        this.#badge.dataset.name = message.name;
        this.#badge.dataset.learner = message.learner;
        this.#tick();
        applyLocks(new Set(message.locked));
        return;
      case 'notice':
        this.#notice(message.notice);
        return;
      case 'lab-reset':
        this.#notice({ id: `reset-${Date.now()}`, kind: 'broadcast', text: 'The instructor reset your lab: your terminals reconnect to a fresh one in a moment. Your progress is kept.', at: Date.now() });
        return;
    }
  }

  #tick(): void {
    const name = this.#badge.dataset.name ?? '';
    const learner = this.#badge.dataset.learner ?? '';
    let left = '';
    if (this.#endsAt !== null) {
      const minutes = Math.max(0, Math.round((this.#endsAt - Date.now()) / 60_000));
      left = minutes === 0 ? ' · ended' : ` · ${minutes >= 60 ? `${Math.floor(minutes / 60)} h ${minutes % 60} min` : `${minutes} min`} left`;
    }
    this.#badge.textContent = `${name} · ${learner}${left}`;
  }

  #notice(notice: WorkshopNotice): void {
    if (this.#shown.has(notice.id) || dismissed().includes(notice.id)) return;
    this.#shown.add(notice.id);
    const card = el('div', `ws-notice ws-notice--${notice.kind}`);
    card.dataset.role = 'workshop-notice';
    card.dataset.kind = notice.kind;
    const head = el('div', 'ws-notice__head');
    head.append(
      el('span', 'ws-notice__kind', notice.kind === 'hint' ? 'Hint from the instructor' : 'Message to the room'),
      el('time', 'ws-notice__time', new Date(notice.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })),
    );
    const close = el('button', 'ws-notice__close', '×');
    close.type = 'button';
    close.setAttribute('aria-label', 'Dismiss');
    close.dataset.action = 'dismiss';
    close.addEventListener('click', () => {
      dismiss(notice.id);
      card.remove();
    });
    head.append(close);
    card.append(head, el('p', 'ws-notice__text', notice.text));
    this.#stack.append(card);
  }
}

function applyLocks(locked: Set<string>): void {
  for (const card of document.querySelectorAll<HTMLAnchorElement>('a.lesson-card[data-lesson]')) {
    const isLocked = locked.has(card.dataset.lesson ?? '');
    card.toggleAttribute('data-locked', isLocked);
    card.setAttribute('aria-disabled', String(isLocked));
    let badge = card.querySelector<HTMLElement>('.ws-lock');
    if (isLocked && !badge) {
      badge = el('span', 'ws-lock', 'Locked');
      card.querySelector('.lesson-card__meta')?.append(badge);
    } else if (!isLocked) badge?.remove();
  }
  const page = document.querySelector<HTMLElement>('lesson-page[data-lesson]');
  if (page) {
    const isLocked = locked.has(page.dataset.lesson ?? '');
    page.toggleAttribute('data-locked', isLocked);
    let banner = document.querySelector<HTMLElement>('[data-role="workshop-locked"]');
    if (isLocked && !banner) {
      banner = el('div', 'ws-locked-banner', 'The instructor has not opened this lesson yet: you can read it, and run its blocks once it opens.');
      banner.dataset.role = 'workshop-locked';
      page.querySelector('.lesson-text__inner')?.prepend(banner);
    } else if (!isLocked) banner?.remove();
  }
}

// A locked lesson's card does not navigate: the lesson opens when the instructor opens it.
document.addEventListener('click', (event) => {
  const card = (event.target as HTMLElement).closest?.('a.lesson-card[data-locked]');
  if (card) event.preventDefault();
});

async function start(): Promise<void> {
  const path = location.pathname;
  if (path.startsWith(WORKSHOP_JOIN_PAGE) || path.startsWith(WORKSHOP_DASHBOARD_PAGE)) return;
  let response: Response;
  try {
    response = await fetch(WORKSHOP_STATUS_PATH, { cache: 'no-store' });
  } catch {
    return; // no runner (a static preview): nothing to show
  }
  if (!response.ok) return; // not a workshop
  const status = workshopStatusResponseSchema.safeParse(await response.json().catch(() => null));
  if (!status.success || !status.data.active) return;
  if (!status.data.joinedAs) {
    location.replace(`${WORKSHOP_JOIN_PAGE}?next=${encodeURIComponent(path)}`);
    return;
  }
  void new LearnerBar().connect();
}

void start();
