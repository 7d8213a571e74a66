// <lab-reset>: the learner's "Reset lab" action. It asks first (a modal dialog that says what is
// lost, and whether to keep the progress), then asks the page to send `reset-lab`.

export const LAB_RESET_EVENT = 'lab-reset:confirmed';

export type LabResetRequest = { clearProgress: boolean };

export class LabResetElement extends HTMLElement {
  connectedCallback(): void {
    const dialog = this.querySelector('dialog');
    const form = dialog?.querySelector('form');
    if (!dialog || !form) return;
    this.querySelector('[data-action="reset-lab"]')?.addEventListener('click', () => {
      form.reset();
      // Escape leaves returnValue as it was: a reset confirmed before must not count again.
      dialog.returnValue = '';
      dialog.showModal();
    });
    dialog.addEventListener('close', () => {
      if (dialog.returnValue !== 'reset') return;
      const clearProgress = new FormData(form).get('progress') === 'clear';
      this.dispatchEvent(new CustomEvent<LabResetRequest>(LAB_RESET_EVENT, { bubbles: true, detail: { clearProgress } }));
    });
  }

  setEnabled(enabled: boolean): void {
    const button = this.querySelector<HTMLButtonElement>('[data-action="reset-lab"]');
    if (button) button.disabled = !enabled;
  }
}
