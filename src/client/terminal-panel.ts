// <terminal-panel>: tabs over the lesson's terminals (the ARIA tabs pattern: arrow keys move
// between tabs, the selected tab is the one in the tab order).

export const TERMINAL_SELECT_EVENT = 'terminal-select';

export class TerminalPanelElement extends HTMLElement {
  connectedCallback(): void {
    const tabs = this.#tabs();
    for (const tab of tabs) {
      tab.addEventListener('click', () => this.select(tab.dataset.terminal ?? ''));
      tab.addEventListener('keydown', (event) => {
        const index = tabs.indexOf(tab);
        const target =
          event.key === 'ArrowRight' ? tabs[(index + 1) % tabs.length]
          : event.key === 'ArrowLeft' ? tabs[(index - 1 + tabs.length) % tabs.length]
          : event.key === 'Home' ? tabs[0]
          : event.key === 'End' ? tabs[tabs.length - 1]
          : undefined;
        if (!target) return;
        event.preventDefault();
        this.select(target.dataset.terminal ?? '');
        target.focus();
      });
    }
    if (tabs.length < 2) this.dataset.single = 'true';
  }

  get selected(): string | undefined {
    return this.#tabs().find((tab) => tab.getAttribute('aria-selected') === 'true')?.dataset.terminal;
  }

  select(name: string): void {
    if (!this.#tabs().some((tab) => tab.dataset.terminal === name)) return;
    for (const tab of this.#tabs()) {
      const selected = tab.dataset.terminal === name;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
      if (selected) delete tab.dataset.activity;
    }
    for (const panel of this.querySelectorAll<HTMLElement>('[role="tabpanel"]')) panel.hidden = panel.dataset.terminal !== name;
    this.dispatchEvent(new CustomEvent<string>(TERMINAL_SELECT_EVENT, { bubbles: true, detail: name }));
  }

  /** Marks a background tab that has new output. */
  markActivity(name: string): void {
    if (this.selected === name) return;
    const tab = this.#tabs().find((candidate) => candidate.dataset.terminal === name);
    if (tab) tab.dataset.activity = 'true';
  }

  #tabs(): HTMLButtonElement[] {
    return [...this.querySelectorAll<HTMLButtonElement>('[role="tab"]')];
  }
}
