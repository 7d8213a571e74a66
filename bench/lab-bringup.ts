// Benchmark: `lab up` → every leaf-spine BGP session Established (budget ≤ 5 s), in a new sandbox
// each run, wall time from the host's point of view (CLI start-up and sandbox creation included).
// Then the leaf-node sessions (BIRD ↔ K8S-NODES). Usage: npm run bench:lab-bringup [-- RUNS]
import { labOk, machine, median, seconds, table, teardownAll, teardownOnSignal } from './lab-common.ts';

const BUDGET_MS = 5_000;
const runs = Number(process.argv[2] ?? process.env.RUNS ?? 5);
const created: string[] = [];
teardownOnSignal(() => created);

const rows: (string | number)[][] = [];
const fabricTimes: number[] = [];
const nodeTimes: number[] = [];
try {
  for (let i = 1; i <= runs; i += 1) {
    const name = `bench-up-${process.pid}-${i}`;
    created.push(name);
    const t0 = performance.now();
    const up = await labOk(name, ['up', '--wait', '--timeout', '30']);
    const fabricMs = performance.now() - t0;
    await labOk(name, ['wait', '--nodes', '--timeout', '30']);
    const nodesMs = performance.now() - t0;
    const ready = /fabric ready in ([\d.]+) s/.exec(up.stdout)?.[1] ?? '?';
    fabricTimes.push(fabricMs);
    nodeTimes.push(nodesMs);
    rows.push([i, ready, seconds(fabricMs), seconds(nodesMs)]);
    await teardownAll([name]);
    created.pop();
  }
} finally {
  await teardownAll(created);
}

console.log(`lab up → BGP Established, ${runs} runs, each in a new sandbox (${machine()})\n`);
console.log(table(['run', 'devices up, daemons started (s, inside)', 'all 16 leaf-spine sessions Established (s)', 'and all 8 leaf-node sessions (s)'], rows));
console.log(`\nmedian ${seconds(median(fabricTimes))} s, max ${seconds(Math.max(...fabricTimes))} s to fabric Established; budget ${seconds(BUDGET_MS)} s: ${Math.max(...fabricTimes) <= BUDGET_MS ? 'met' : 'MISSED'}`);
console.log(`leaf-node sessions: median ${seconds(median(nodeTimes))} s (BIRD waits its "connect delay time 2" first; measured with a second CLI call, ~0.3 s of it is CLI start-up)`);
