// Benchmark: `lab up` → every leaf-spine BGP session Established (budget ≤ 5 s), in a new sandbox
// each run, wall time from the host's point of view (CLI start-up and sandbox creation included).
// Then the leaf-node sessions (BIRD ↔ K8S-NODES). Usage: npm run bench:lab-bringup [-- RUNS]
import { labOk, machine, median, seconds, table, teardownAll, teardownOnSignal } from './lab-common.ts';

const BUDGET_MS = 5_000;
const runs = Number(process.argv[2] ?? process.env.RUNS ?? 5);
const created: string[] = [];
teardownOnSignal(() => created);

interface Variant {
  label: string;
  args: string[];
  /** The bootstrap BIRD config peers nodes with their TORs; the cluster's starts in mesh mode. */
  nodeSessions: boolean;
}
const variants: Variant[] = [
  { label: 'fabric only (--fabric-only)', args: ['--fabric-only'], nodeSessions: true },
  { label: 'whole lab (fabric + cluster services)', args: [], nodeSessions: false },
];

const rows: (string | number)[][] = [];
const verdicts: string[] = [];
try {
  for (const variant of variants) {
    const fabricTimes: number[] = [];
    const nodeTimes: number[] = [];
    for (let i = 1; i <= runs; i += 1) {
      const name = `bench-up-${process.pid}-${rows.length + 1}`;
      created.push(name);
      const t0 = performance.now();
      const up = await labOk(name, ['up', ...variant.args, '--wait', '--timeout', '30']);
      const fabricMs = performance.now() - t0;
      let nodes = '-';
      if (variant.nodeSessions) {
        await labOk(name, ['wait', '--nodes', '--timeout', '30']);
        const nodesMs = performance.now() - t0;
        nodeTimes.push(nodesMs);
        nodes = seconds(nodesMs);
      }
      const ready = /fabric ready in ([\d.]+) s/.exec(up.stdout)?.[1] ?? '?';
      const services = /services started in ([\d.]+) s/.exec(up.stdout)?.[1] ?? '-';
      fabricTimes.push(fabricMs);
      rows.push([variant.label, i, ready, services, seconds(fabricMs), nodes]);
      await teardownAll([name]);
      created.pop();
    }
    const worst = Math.max(...fabricTimes);
    verdicts.push(
      `${variant.label}: median ${seconds(median(fabricTimes))} s, max ${seconds(worst)} s to fabric Established; budget ${seconds(BUDGET_MS)} s: ${worst <= BUDGET_MS ? 'met' : 'MISSED'}` +
        (nodeTimes.length ? `; leaf-node sessions median ${seconds(median(nodeTimes))} s` : ''),
    );
  }
} finally {
  await teardownAll(created);
}

console.log(`lab up → BGP Established, ${runs} runs per variant, each in a new sandbox (${machine()})\n`);
console.log(table(['variant', 'run', 'devices up, daemons started (s, inside)', 'services started (s, inside)', 'all 16 leaf-spine sessions Established (s)', 'all 8 leaf-node sessions (s)'], rows));
console.log(`\n${verdicts.join('\n')}`);
console.log('Times are wall clock from starting `lab up` on the host (sandbox creation and CLI start-up included).');
console.log('Leaf-node sessions: BIRD waits its "connect delay time 2" first; measured with a second CLI call (~0.1 s of it is CLI start-up).');
