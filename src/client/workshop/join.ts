// The join form: posts the code and name, then goes to the course (or where the learner was sent from).

import '../../styles/workshop.css';
import { WORKSHOP_JOIN_PATH, WORKSHOP_STATUS_PATH, workshopStatusResponseSchema } from '../../../runner/protocol.ts';

const form = document.querySelector<HTMLFormElement>('[data-role="join-form"]')!;
const errorBox = form.querySelector<HTMLElement>('[data-role="join-error"]')!;
const params = new URLSearchParams(location.search);
const code = form.elements.namedItem('code') as HTMLInputElement;
const name = form.elements.namedItem('name') as HTMLInputElement;
if (params.get('code')) code.value = params.get('code')!;

/** Only a path on this site: `next` comes from the URL, which anyone can craft. */
function nextPath(): string {
  const next = params.get('next') ?? '/';
  return next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

function showError(message: string, field?: string): void {
  errorBox.textContent = message;
  errorBox.hidden = false;
  for (const input of [code, name]) input.toggleAttribute('aria-invalid', input.name === field);
  if (field === 'code') code.focus();
  else if (field === 'name') name.focus();
}

async function showStatus(): Promise<void> {
  try {
    const response = await fetch(WORKSHOP_STATUS_PATH, { cache: 'no-store' });
    if (!response.ok) {
      showError('No workshop is running on this server.');
      return;
    }
    const status = workshopStatusResponseSchema.parse(await response.json());
    if (status.workshop) document.querySelector('[data-role="workshop-name"]')!.textContent = `Join “${status.workshop}”`;
    if (status.joinedAs) {
      const joined = form.querySelector<HTMLElement>('[data-role="joined"]')!;
      joined.querySelector('[data-role="joined-name"]')!.textContent = status.joinedAs;
      joined.querySelector('a')!.href = nextPath();
      joined.hidden = false;
      name.value = status.joinedAs;
    }
  } catch (error) {
    showError(`Cannot reach the workshop server (${(error as Error).message}).`);
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  errorBox.hidden = true;
  const button = form.querySelector<HTMLButtonElement>('button[type="submit"]')!;
  button.disabled = true;
  fetch(WORKSHOP_JOIN_PATH, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ code: code.value, name: name.value }),
  })
    .then(async (response) => {
      const body = (await response.json().catch(() => ({}))) as { error?: string; field?: string };
      if (!response.ok) {
        showError(body.error ?? `The server answered ${response.status}.`, body.field);
        return;
      }
      location.assign(nextPath());
    })
    .catch((error: unknown) => showError(`Cannot reach the workshop server (${(error as Error).message}).`))
    .finally(() => {
      button.disabled = false;
    });
});

void showStatus();
