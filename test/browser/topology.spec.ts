// The live topology view on a lesson page, fed by a scripted lab (test/browser/topology-feed.ts,
// the runner's --topology-command in playwright.config.ts): drawn from the snapshot, recoloured
// when a snapshot says a switch failed, with the change spelled out, and foldable.

import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LabSnapshot } from '../../runner/protocol.ts';
import { expect, test } from './fixtures.ts';

const LESSON = '02-two-terminals';

function lab(failed: boolean): LabSnapshot {
  const leaf10 = failed ? 'failed' : 'up';
  const down = failed ? 'down' : 'up';
  return {
    devices: [
      { name: 'spine1', role: 'spine', state: 'up' },
      { name: 'spine2', role: 'spine', state: 'up' },
      { name: 'leaf10', role: 'leaf', group: 'rack1', state: leaf10, ...(failed ? { detail: 'failed (link)' } : {}) },
      { name: 'leaf11', role: 'leaf', group: 'rack1', state: 'up' },
      { name: 'k8s-master', role: 'node', group: 'rack1', state: 'up' },
      { name: 'default/nginx-rack1', role: 'pod', group: 'rack1', parent: 'k8s-master', state: 'up' },
      { name: 'leaf20', role: 'leaf', group: 'rack2', state: 'up' },
      { name: 'leaf21', role: 'leaf', group: 'rack2', state: 'up' },
      { name: 'k8s-worker-1', role: 'node', group: 'rack2', state: 'up' },
    ],
    links: [
      { a: 'leaf10:swp1', b: 'spine1:swp1', state: down },
      { a: 'leaf11:swp1', b: 'spine1:swp2', state: 'up' },
      { a: 'leaf10:swp3', b: 'k8s-master:enp0s8', state: down },
      { a: 'leaf11:swp3', b: 'k8s-master:enp0s9', state: 'up' },
    ],
    sessions: [
      { a: 'spine1', b: 'leaf10', protocol: 'bgp', state: failed ? 'Idle' : 'Established', established: !failed },
      { a: 'spine1', b: 'leaf11', protocol: 'bgp', state: 'Established', established: true },
      { a: 'leaf10', b: 'k8s-master', protocol: 'bgp', state: failed ? 'Active' : 'Established', established: !failed },
      { a: 'leaf11', b: 'k8s-master', protocol: 'bgp', state: 'Established', established: true },
    ],
  };
}

/** Writes what this learner's lab "is", atomically (the feed reads whole files only). */
function setLab(learner: string, snapshot: LabSnapshot): void {
  const dir = path.join(process.env.COURSE_TEST_STATE!, 'topology-feed');
  const file = path.join(dir, `${learner}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify(snapshot));
  renameSync(`${file}.tmp`, file);
}

test('the topology view draws the learner’s lab and recolours it when a switch fails', async ({ lesson, page }) => {
  await lesson.open(LESSON);
  const view = page.locator('lab-topology');
  await expect(view.locator('.topology__empty')).toBeVisible();
  const learner = await page.evaluate(async () => ((await (await fetch('/api/session')).json()) as { learner: string }).learner);

  setLab(learner, lab(false));
  await expect(view).toHaveAttribute('data-state', 'live');
  await expect(view.locator('.topo-device')).toHaveCount(8); // pods are dots inside their node
  await expect(view.locator('[data-device="leaf10"]')).toHaveAttribute('data-state', 'up');
  await expect(view.locator('.topo-session--established')).toHaveCount(4);
  await expect(view.locator('.topo-link--down')).toHaveCount(0);
  await expect(view.locator('.topo-pod')).toHaveCount(1);
  await expect(view.locator('.topo-group')).toHaveCount(2);
  await expect(view.locator('[data-role="note"]')).toHaveText('Live · no changes yet');

  setLab(learner, lab(true));
  await expect(view.locator('[data-device="leaf10"]')).toHaveAttribute('data-state', 'failed');
  await expect(view.locator('[data-device="leaf10"]')).toContainText('failed (link)');
  await expect(view.locator('.topo-link--down')).toHaveCount(2);
  await expect(view.locator('.topo-session--down')).toHaveCount(1); // Idle
  await expect(view.locator('.topo-session--connecting')).toHaveCount(1); // Active
  await expect(view.locator('.topo-session--established')).toHaveCount(2);
  await expect(view.locator('[data-role="note"]')).toContainText(/leaf10 → k8s-master BGP: Established → Active \(\+\d more\) · \d\d:\d\d:\d\d/);

  // Folding hides the drawing and gives the terminals the room; unfolding brings it back.
  const terminal = page.locator('terminal-panel');
  const before = (await terminal.boundingBox())!.height;
  await view.getByRole('button', { name: 'Lab topology' }).click();
  await expect(view.getByRole('button', { name: 'Lab topology' })).toHaveAttribute('aria-expanded', 'false');
  await expect(view.locator('.topology__svg')).toBeHidden();
  await expect.poll(async () => (await terminal.boundingBox())!.height).toBeGreaterThan(before + 100);
  await view.getByRole('button', { name: 'Lab topology' }).click();
  await expect(view.locator('.topology__svg')).toBeVisible();
});

test('a lesson without `topology: true` has no topology view', async ({ lesson, page }) => {
  await lesson.open('01-first-steps');
  await expect(page.locator('.terminal__screen').first()).toBeVisible();
  await expect(page.locator('lab-topology')).toHaveCount(0);
});
