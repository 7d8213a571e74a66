// Benchmark: `lab up` → every leaf-spine BGP session Established (budget ≤ 5 s), in a new sandbox
// each run, wall time from the host's point of view (CLI start-up and sandbox creation included).
// Then the leaf-node sessions (BIRD ↔ K8S-NODES).
// Usage: npm run bench:lab-bringup [-- RUNS] [--reference DIR]
//   --reference DIR: the lab of another checkout measured too, alternating run by run with this
//   one, and the ratio of their medians (this / reference) printed with the machine's load.
import { loadavg } from 'node:os';
import { labOk, machine, median, REFERENCE_PREFIX, seconds, table, takeReference, teardownAll, teardownOnSignal } from './lab-common.ts';

const BUDGET_MS = 5_000;
/** Generous: the bench must finish on a busy machine too; its figures say how long it took. */
const WAIT_SECONDS = '300';
const { reference, rest } = takeReference(process.argv.slice(2));
const runs = Number(rest[0] ?? process.env.RUNS ?? 5);
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
const labs = reference ? [{ label: 'this', prefix: 'bench-up-' }, { label: 'reference', prefix: REFERENCE_PREFIX }] : [{ label: 'this', prefix: 'bench-up-' }];

const rows: (string | number)[][] = [];
const verdicts: string[] = [];
const loads: number[] = [];
try {
  for (const variant of variants) {
    const fabricTimes = new Map<string, number[]>(labs.map((l) => [l.label, []]));
    const sandboxTimes = new Map<string, number[]>(labs.map((l) => [l.label, []]));
    const nodeTimes: number[] = [];
    for (let i = 1; i <= runs; i += 1) {
      for (const which of labs) {
        const name = `${which.prefix}${process.pid}-${rows.length + 1}`;
        created.push(name);
        loads.push(loadavg()[0]!);
        const t0 = performance.now();
        const up = await labOk(name, ['up', ...variant.args, '--wait', '--timeout', WAIT_SECONDS]);
        const fabricMs = performance.now() - t0;
        let nodes = '-';
        if (variant.nodeSessions && which.label === 'this') {
          await labOk(name, ['wait', '--nodes', '--timeout', WAIT_SECONDS]);
          const nodesMs = performance.now() - t0;
          nodeTimes.push(nodesMs);
          nodes = seconds(nodesMs);
        }
        const sandbox = /sandbox \S+ created in ([\d.]+) s/.exec(up.stdout)?.[1] ?? '?';
        sandboxTimes.get(which.label)!.push(Number(sandbox) * 1000);
        const ready = /fabric ready in ([\d.]+) s/.exec(up.stdout)?.[1] ?? '?';
        const services = /services started in ([\d.]+) s/.exec(up.stdout)?.[1] ?? '-';
        fabricTimes.get(which.label)!.push(fabricMs);
        rows.push([variant.label, which.label, i, sandbox, ready, services, seconds(fabricMs), nodes, loadavg()[0]!.toFixed(1)]);
        await teardownAll([name]);
        created.pop();
      }
    }
    const mine = fabricTimes.get('this')!;
    const worst = Math.max(...mine);
    const against = fabricTimes.get('reference');
    verdicts.push(
      `${variant.label}: median ${seconds(median(mine))} s, max ${seconds(worst)} s to fabric Established; budget ${seconds(BUDGET_MS)} s: ${worst <= BUDGET_MS ? 'met' : 'MISSED'}` +
        (nodeTimes.length ? `; leaf-node sessions median ${seconds(median(nodeTimes))} s` : '') +
        (against ? `; reference median ${seconds(median(against))} s, ratio ${(median(mine) / median(against)).toFixed(2)}` : '') +
        `; the sandbox alone: median ${seconds(median(sandboxTimes.get('this')!))} s` +
        (against ? `, reference ${seconds(median(sandboxTimes.get('reference')!))} s` : ''),
    );
  }
} finally {
  await teardownAll(created);
}

console.log(`lab up → BGP Established, ${runs} runs per variant${reference ? `, alternating with the reference ${reference}` : ''}, each in a new sandbox (${machine()})\n`);
console.log(table(['variant', 'lab', 'run', 'sandbox made (s)', 'devices up, daemons started (s, inside)', 'services started (s, inside)', 'all 16 leaf-spine sessions Established (s)', 'all 8 leaf-node sessions (s)', 'load (1 min)'], rows));
console.log(`\n${verdicts.join('\n')}`);
console.log(`Load (1 min) while it ran: ${Math.min(...loads).toFixed(1)} to ${Math.max(...loads).toFixed(1)}.`);
console.log('Times are wall clock from starting `lab up` on the host (sandbox creation and CLI start-up included).');
console.log('Leaf-node sessions: BIRD waits its "connect delay time 2" first; measured with a second CLI call (~0.1 s of it is CLI start-up).');
