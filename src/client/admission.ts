// Admission: the URL the runner printed carries its start key in the fragment (`#start=KEY`);
// the first page opened with it shows the key to the runner, which admits this browser (its
// learner cookie) for good, then takes the key out of the address bar and the history entry. Every
// page imports this; `admitted` settles once that is done (at once when there is no key).

import { ADMIT_PATH, START_KEY_PARAM } from '../../runner/protocol.ts';

async function admitWithFragmentKey(): Promise<void> {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const key = fragment.get(START_KEY_PARAM);
  if (!key) return;
  try {
    const response = await fetch(ADMIT_PATH, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ key }),
    });
    if (!response.ok) console.warn(`${ADMIT_PATH} answered ${response.status}: ${await response.text()}`);
  } catch (error) {
    // The runner is unreachable: the session's own attempts say so on the page.
    console.warn('admission failed', error);
  } finally {
    // Once shown, the key leaves the address bar and this history entry (and so a bookmark).
    fragment.delete(START_KEY_PARAM);
    const rest = fragment.toString();
    history.replaceState(history.state, '', `${location.pathname}${location.search}${rest ? `#${rest}` : ''}`);
  }
}

export const admitted: Promise<void> = admitWithFragmentKey();
