// <lab-topology>: the learner's lab drawn live beside the terminals. The runner sends `topology`
// frames (a snapshot of devices, links and sessions, and the latest changes); this element lays
// the graph out (topology-layout.ts) and redraws it as an SVG, marking what changed since the
// last frame. The bar above it says what changed last and can fold the drawing away.

import type { LabChange, LabSession, LabSnapshot, TopologyMessage } from '../../runner/protocol.ts';
import { anchor, endDevice, layoutTopology, sessionLook, type Layout, type PlacedDevice } from './topology-layout.ts';

export const TOPOLOGY_TOGGLE_EVENT = 'topology-toggle';
const SVG_NS = 'http://www.w3.org/2000/svg';
/** Where the folded/unfolded choice is remembered across lessons. */
const COLLAPSED_KEY = 'course.topology.collapsed';
/** How deep the arc of a session between two devices of one row dips below them. */
const ARC_DEPTH = 18;
/** The state tag on a switch: height, inner padding, and the width of one 9px monospace character. */
const TAG = { height: 13, padding: 5, charWidth: 5.5 } as const;
/** Where along a link (0 top, 1 bottom) its session's badge sits. */
const BADGE_ALONG = 0.68;
/** Pod dots inside a node box: size and spacing, and how many before "+N". */
const POD_DOT = { r: 3, gap: 9, max: 9 } as const;

type Svg = SVGElement;

function svg<K extends keyof SVGElementTagNameMap>(name: K, attributes: Record<string, string | number>, parent?: Element): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  parent?.append(element);
  return element;
}

function title(parent: Svg, text: string): void {
  svg('title', {}, parent).textContent = text;
}

function time(at: number): string {
  return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

export function describeChange(change: LabChange): string {
  return `${change.subject}: ${change.from ?? 'new'} → ${change.to ?? 'gone'}`;
}

export class LabTopologyElement extends HTMLElement {
  #last = new Map<string, string>();
  #canvas: HTMLElement | null = null;
  #note: HTMLElement | null = null;
  #toggle: HTMLButtonElement | null = null;

  connectedCallback(): void {
    this.#canvas = this.querySelector('[data-role="canvas"]');
    this.#note = this.querySelector('[data-role="note"]');
    this.#toggle = this.querySelector('[data-action="toggle"]');
    this.#toggle?.addEventListener('click', () => this.setCollapsed(!this.collapsed));
    let remembered = false;
    try {
      remembered = localStorage.getItem(COLLAPSED_KEY) === 'true';
    } catch {
      // Storage refused (privacy settings): the view simply starts unfolded.
    }
    this.setCollapsed(remembered, false);
  }

  get collapsed(): boolean {
    return this.dataset.collapsed === 'true';
  }

  setCollapsed(collapsed: boolean, remember = true): void {
    this.dataset.collapsed = String(collapsed);
    this.#toggle?.setAttribute('aria-expanded', String(!collapsed));
    if (remember) {
      try {
        localStorage.setItem(COLLAPSED_KEY, String(collapsed));
      } catch {
        // Not remembered across pages; it still folds on this one.
      }
    }
    this.dispatchEvent(new CustomEvent(TOPOLOGY_TOGGLE_EVENT, { bubbles: true }));
  }

  /** The connection to the runner dropped: what is drawn may no longer be true. */
  markStale(): void {
    if (this.dataset.state !== 'live') return;
    this.dataset.state = 'stale';
    this.#setNote('Not connected: the lab is shown as last seen.', '');
  }

  update(message: TopologyMessage): void {
    if (!message.snapshot) {
      this.dataset.state = 'unavailable';
      this.#last.clear();
      this.#canvas?.replaceChildren(Object.assign(document.createElement('p'), { className: 'topology__empty', textContent: message.unavailable ?? 'No lab to show.' }));
      this.#showChanges(message.changes);
      return;
    }
    this.dataset.state = 'live';
    this.#draw(message.snapshot);
    this.#showChanges(message.changes);
  }

  #showChanges(changes: LabChange[]): void {
    const latest = changes.at(-1);
    if (!latest) {
      this.#setNote(this.dataset.state === 'live' ? 'Live · no changes yet' : '', '');
      return;
    }
    const together = changes.filter((c) => c.at === latest.at);
    const more = together.length > 1 ? ` (+${together.length - 1} more)` : '';
    const history = changes.slice(-8).reverse().map((c) => `${time(c.at)}  ${describeChange(c)}`).join('\n');
    this.#setNote(`${describeChange(latest)}${more} · ${time(latest.at)}`, history);
  }

  #setNote(text: string, tooltip: string): void {
    if (!this.#note) return;
    this.#note.textContent = text;
    this.#note.title = tooltip;
  }

  #draw(snapshot: LabSnapshot): void {
    const layout = layoutTopology(snapshot);
    const root = svg('svg', { viewBox: `0 0 ${layout.width} ${layout.height}`, role: 'img', 'aria-label': 'Lab topology', class: 'topology__svg' });
    // What changed since the previous frame is marked for a moment (an animation in CSS).
    const seen = new Map<string, string>();
    const mark = (element: Svg, key: string, state: string) => {
      seen.set(key, state);
      const before = this.#last.get(key);
      if (before !== undefined && before !== state) element.classList.add('is-changed');
    };

    for (const group of layout.groups) {
      const band = svg('g', { class: 'topo-group' }, root);
      svg('rect', { x: group.x, y: group.y, width: group.width, height: group.height, rx: 10 }, band);
      svg('text', { x: group.x + 8, y: group.y + group.height - 6 }, band).textContent = group.name;
    }

    const linkBetween = new Map<string, { x1: number; y1: number; x2: number; y2: number }>();
    const links = svg('g', { class: 'topo-links' }, root);
    for (const link of snapshot.links) {
      const from = layout.devices.get(endDevice(link.a));
      const to = layout.devices.get(endDevice(link.b));
      if (!from || !to) continue;
      const points = anchor(from, to);
      linkBetween.set(pairKey(from.device.name, to.device.name), points);
      const line = svg('line', { ...points, class: `topo-link topo-link--${link.state}` }, links);
      title(line, `${link.a} — ${link.b}: ${link.state}${link.detail ? ` (${link.detail})` : ''}`);
      mark(line, `link ${[link.a, link.b].sort().join(' ')}`, link.state);
    }

    const sessions = svg('g', { class: 'topo-sessions' }, root);
    for (const session of snapshot.sessions) this.#drawSession(sessions, layout, session, linkBetween, mark);

    const devices = svg('g', { class: 'topo-devices' }, root);
    for (const placed of layout.devices.values()) this.#drawDevice(devices, placed, mark);

    this.#last = seen;
    this.#canvas?.replaceChildren(root);
  }

  #drawSession(parent: Svg, layout: Layout, session: LabSession, links: Map<string, { x1: number; y1: number; x2: number; y2: number }>, mark: (e: Svg, k: string, s: string) => void): void {
    const a = layout.devices.get(session.a);
    const b = layout.devices.get(session.b);
    if (!a || !b) return;
    const look = sessionLook(session);
    const group = svg('g', { class: `topo-session topo-session--${look}` }, parent);
    const link = links.get(pairKey(a.device.name, b.device.name));
    let cx: number;
    let cy: number;
    if (link) {
      // Over a link: a badge on it, nearer the lower device, where links fan out instead of crossing.
      const [top, low] = link.y1 <= link.y2 ? [{ x: link.x1, y: link.y1 }, { x: link.x2, y: link.y2 }] : [{ x: link.x2, y: link.y2 }, { x: link.x1, y: link.y1 }];
      cx = top.x + (low.x - top.x) * BADGE_ALONG;
      cy = top.y + (low.y - top.y) * BADGE_ALONG;
    } else {
      // No direct link (multi-hop, a node-to-node mesh): a dashed arc, with the badge at its apex.
      const points = anchor(a, b);
      const sameRow = Math.abs(a.y - b.y) < 1;
      const mx = (points.x1 + points.x2) / 2;
      const my = sameRow ? Math.max(points.y1, points.y2) + ARC_DEPTH : (points.y1 + points.y2) / 2;
      const qx = sameRow ? mx : mx + ARC_DEPTH;
      const qy = sameRow ? my + ARC_DEPTH : my;
      svg('path', { d: `M${points.x1},${points.y1} Q${qx},${qy} ${points.x2},${points.y2}`, class: 'topo-session__arc' }, group);
      cx = mx + (sameRow ? 0 : ARC_DEPTH / 2);
      cy = my;
    }
    svg('circle', { cx, cy, r: 5, class: 'topo-session__badge' }, group);
    title(group, `${session.a} → ${session.b} ${session.protocol.toUpperCase()}: ${session.state}${session.detail ? `\n${session.detail}` : ''}`);
    mark(group, `session ${[session.a, session.b].sort().join(' ')} ${session.protocol}`, session.state);
  }

  #drawDevice(parent: Svg, placed: PlacedDevice, mark: (e: Svg, k: string, s: string) => void): void {
    const { device } = placed;
    const group = svg('g', { class: `topo-device topo-device--${device.role} topo-device--${device.state}`, 'data-device': device.name, 'data-state': device.state }, parent);
    svg('rect', { x: placed.x, y: placed.y, width: placed.width, height: placed.height, rx: 6 }, group);
    const label = svg('text', { x: placed.x + placed.width / 2, y: placed.y + (device.role === 'node' ? 15 : placed.height / 2 + 4), class: 'topo-device__name' }, group);
    label.textContent = device.name;
    const status = device.state === 'up' ? '' : device.state === 'notready' ? 'NotReady' : device.state;
    if (device.role === 'node') {
      const shown = placed.pods.slice(0, POD_DOT.max);
      const width = (shown.length - 1) * POD_DOT.gap;
      const y = placed.y + placed.height - 10;
      if (status) {
        svg('text', { x: placed.x + placed.width / 2, y: y + 3, class: 'topo-device__status' }, group).textContent = status;
      } else {
        shown.forEach((pod, i) => {
          const dot = svg('circle', { cx: placed.x + placed.width / 2 - width / 2 + i * POD_DOT.gap, cy: y, r: POD_DOT.r, class: `topo-pod topo-pod--${pod.state}` }, group);
          title(dot, `pod ${pod.name}: ${pod.state}`);
        });
        if (placed.pods.length > shown.length) {
          svg('text', { x: placed.x + placed.width / 2 + width / 2 + 8, y: y + 3, class: 'topo-device__more' }, group).textContent = `+${placed.pods.length - shown.length}`;
        }
      }
    } else if (status) {
      // A tag on the box's top-right corner: "failed (silent)", "down".
      const text = device.detail && device.state !== 'down' ? device.detail : status;
      const width = text.length * TAG.charWidth + 2 * TAG.padding;
      const right = placed.x + placed.width + 6;
      svg('rect', { x: right - width, y: placed.y - TAG.height / 2 - 2, width, height: TAG.height, rx: TAG.height / 2, class: 'topo-device__tag' }, group);
      svg('text', { x: right - width / 2, y: placed.y + 1, class: 'topo-device__status' }, group).textContent = text;
    }
    const pods = placed.pods.length ? `, ${placed.pods.filter((p) => p.state === 'up').length}/${placed.pods.length} pods up` : '';
    title(group, `${device.name} (${device.role}${device.group ? `, ${device.group}` : ''}): ${device.detail ?? device.state}${pods}`);
    mark(group, `device ${device.name}`, device.state);
  }
}

function pairKey(a: string, b: string): string {
  return [a, b].sort().join('|');
}
