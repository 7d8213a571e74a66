// Benchmark: memory of one lab (PSS of all its processes, from /proc/PID/smaps_rollup; budget
// ≤ 250 MB), then how many labs fit: labs are started one after another until 40 (or
// LAB_BENCH_MAX) are up, or the machine's available memory falls under a reserve. Reports the
// count, the bring-up time of the last lab and the total memory. Every lab is removed at the end.
// Usage: npm run bench:lab-memory [-- MAX] [--reference DIR]   (LAB_BENCH_FABRIC_ONLY=1: count fabric-only labs)
//   --reference DIR: one lab of another checkout measured the same way right after this one's, and
//   the ratio of their totals (this / reference).
import { comm, lab, labOk, machine, memAvailableKb, pssKb, REFERENCE_PREFIX, sandboxPids, seconds, table, takeReference, teardownAll, teardownOnSignal } from './lab-common.ts';

const BUDGET_MB = 250;
const { reference, rest } = takeReference(process.argv.slice(2));
const MAX_LABS = Number(rest[0] ?? process.env.LAB_BENCH_MAX ?? 40);
/** Stop starting labs when less than this is left, so the machine never swaps or OOMs. */
const RESERVE_KB = Math.max(2 * 2 ** 20, memAvailableKb() * 0.1);

const created: string[] = [];
teardownOnSignal(() => created);

function labPssKb(name: string): { total: number; byName: Map<string, { count: number; kb: number }> } {
  const byName = new Map<string, { count: number; kb: number }>();
  let total = 0;
  for (const pid of sandboxPids(name)) {
    const kb = pssKb(pid);
    total += kb;
    const key = comm(pid);
    const entry = byName.get(key) ?? { count: 0, kb: 0 };
    entry.count += 1;
    entry.kb += kb;
    byName.set(key, entry);
  }
  return { total, byName };
}

const mb = (kb: number) => (kb / 1024).toFixed(1);

try {
  const availableAtStart = memAvailableKb();
  const variant = process.env.LAB_BENCH_FABRIC_ONLY === '1' ? ['--fabric-only'] : [];
  // One lab, in detail: fabric only, then the whole lab (with the cluster's services).
  console.log(`Memory of one lab, PSS from /proc/PID/smaps_rollup (${machine()})\n`);
  const measured: Record<string, number> = {};
  const labs = reference ? [['', 'bench-mem-'], [' (reference)', REFERENCE_PREFIX]] : [['', 'bench-mem-']];
  const variants = [['fabric only (--fabric-only)', ['--fabric-only']], ['whole lab (fabric + cluster services)', []]] as const;
  for (const [[label, args], [which, prefix]] of variants.flatMap((variant) => labs.map((l) => [variant, l] as const))) {
    const name = `${prefix}${process.pid}-${created.length + 1}`;
    created.push(name);
    await labOk(name, ['up', ...args, '--wait', '--timeout', '300']);
    const one = labPssKb(name);
    measured[`${label}${which}`] = one.total;
    console.log(`${label}${which}:\n`);
    console.log(
      table(
        ['process', 'count', 'PSS (MB)'],
        [...one.byName.entries()].sort((a, b) => b[1].kb - a[1].kb).map(([n, e]) => [n, e.count, mb(e.kb)]).concat([['total', [...one.byName.values()].reduce((n, e) => n + e.count, 0), mb(one.total)]]),
      ),
    );
    console.log(`\nbudget ${BUDGET_MB} MB: ${one.total / 1024 <= BUDGET_MB ? 'met' : 'MISSED'}\n`);
    await teardownAll([name]);
    created.pop();
  }
  if (reference) {
    for (const [label] of variants) {
      console.log(`${label}: ${mb(measured[label]!)} MB, reference ${mb(measured[`${label} (reference)`]!)} MB, ratio ${(measured[label]! / measured[`${label} (reference)`]!).toFixed(3)}`);
    }
    console.log('');
  }

  // How many fit.
  let lastUpMs = 0;
  let stopReason = `reached ${MAX_LABS} labs`;
  while (created.length < MAX_LABS) {
    if (memAvailableKb() < RESERVE_KB) {
      stopReason = `available memory under the ${mb(RESERVE_KB)} MB reserve`;
      break;
    }
    const name = `bench-mem-${process.pid}-${created.length + 1}`;
    created.push(name);
    const t0 = performance.now();
    await labOk(name, ['up', ...variant, '--wait', '--timeout', '300']);
    lastUpMs = performance.now() - t0;
    if (created.length % 10 === 0) process.stderr.write(`${created.length} labs up\n`);
  }
  // Every lab still established once all run (a lab that fell apart under load does not count).
  // One at a time: forty concurrent pollers would measure the pollers.
  let healthy = 0;
  for (const name of created) {
    if ((await lab(name, ['wait', '--timeout', '60'])).code === 0) healthy += 1;
  }
  const totalKb = created.reduce((sum, name) => sum + labPssKb(name).total, 0);
  const load = (await import('node:os')).loadavg()[0]!;
  console.log(`How many labs fit: ${variant.length ? 'fabric only' : 'whole labs, with the cluster services'} (${stopReason})\n`);
  console.log(
    table(
      ['labs up', 'with every leaf-spine session Established', 'bring-up of the last (s)', 'total PSS (MB)', 'PSS per lab (MB)', 'MemAvailable start → end (MB)', 'load (1 min)'],
      [[created.length, healthy, seconds(lastUpMs), mb(totalKb), mb(totalKb / created.length), `${mb(availableAtStart)} → ${mb(memAvailableKb())}`, load.toFixed(2)]],
    ),
  );
} finally {
  process.stderr.write(`removing ${created.length} labs\n`);
  await teardownAll(created);
}
