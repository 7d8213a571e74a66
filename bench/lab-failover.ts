// Benchmark: pod-to-pod loss window per failure mode. A pod in rack1 (default/busybox-rack1 on
// k8s-master) pings a pod in rack2 (default/nginx-rack2 on k8s-worker-1) every 10 ms; the TOR of
// rack1 that carries the probe is failed with `lab fail TOR --mode link|stop|silent`; lost time =
// unanswered probes × 10 ms. Budgets: ≤ 0.2 s for link, ≤ 1 s for silent (needs BFD on the node
// sessions). Usage: npm run bench:lab-failover [-- RUNS] [--calico]
//
// By default the nodes keep the fabric's bootstrap BIRD configuration (BFD on). With --calico the
// whole lab comes up and is configured as the course does it, through the cluster's own tools: the
// walkthrough's four BGPPeers (failureDetectionMode: BFDIfDirectlyConnected) and the mesh disabled,
// so BFD is on because calico-node rendered it from the resources.
import fs from 'node:fs';
import { lab, labOk, machine, median, REPO, spawnCollect, table, teardownAll, teardownOnSignal } from './lab-common.ts';

const PROBE_INTERVAL_MS = 10;
/** Probing runs this long before the failure, to see a clean path first. */
const LEAD_MS = 1_000;
/** And this long after it: the hold timer (9 s, datacenter defaults) bounds every recovery. */
const TAIL_MS: Record<string, number> = { link: 4_000, stop: 4_000, silent: 12_000 };
const BUDGET_MS: Record<string, number> = { link: 200, stop: 1_000, silent: 1_000 };
const MODES = ['link', 'stop', 'silent'] as const;
const args = process.argv.slice(2);
const calico = args.includes('--calico');
const runs = Number(args.find((arg) => !arg.startsWith('--')) ?? process.env.RUNS ?? 3);
/** The walkthrough's inputs, as the cluster emulation's golden tests keep them. */
const WALKTHROUGH_INPUTS = `${REPO}/lab/cluster/testdata/walkthrough`;
/** Lessons 2 to 4: each node in its rack's AS and labelled with its rack, the peers, no mesh. */
const CALICO_SETUP: string[] = [
  `calicoctl patch node k8s-master -p '{"spec":{"bgp": {"asNumber": "65101"}}}'`,
  `calicoctl patch node k8s-worker-1 -p '{"spec":{"bgp": {"asNumber": "65102"}}}'`,
  'kubectl label node k8s-master rack=rack1',
  'kubectl label node k8s-worker-1 rack=rack2',
  `kubectl apply -f - <<'EOF'\n${fs.readFileSync(`${WALKTHROUGH_INPUTS}/09-apply-peers.stdin.yaml`, 'utf8')}EOF`,
  `calicoctl apply -f - <<'EOF'\n${fs.readFileSync(`${WALKTHROUGH_INPUTS}/10-disable-mesh.stdin.yaml`, 'utf8')}EOF`,
];
const sandbox = `bench-fail-${process.pid}`;
const FROM = 'default/busybox-rack1';
const TO = '10.10.230.10';

teardownOnSignal(() => [sandbox]);

async function txPackets(iface: string): Promise<number> {
  const r = await labOk(sandbox, ['exec', 'k8s-master', '--', 'cat', `/sys/class/net/${iface}/statistics/tx_packets`]);
  return Number(r.stdout.trim());
}

/** The rack1 TOR that carries the probe's flow from k8s-master (the ECMP hash picks one). */
async function torOfProbe(): Promise<string> {
  const [a0, b0] = await Promise.all([txPackets('enp0s8'), txPackets('enp0s9')]);
  await labOk(sandbox, ['exec', FROM, '--', 'ping', '-c', '100', '-i', '0.002', '-q', TO]);
  const [a1, b1] = await Promise.all([txPackets('enp0s8'), txPackets('enp0s9')]);
  return a1 - a0 > b1 - b0 ? 'leaf10' : 'leaf11';
}

async function converged(): Promise<void> {
  await labOk(sandbox, ['wait', '--nodes', '--timeout', '60']);
  // Both TORs back in the node's route to the other rack's pods.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await labOk(sandbox, ['exec', 'k8s-master', '--', 'ip', '-j', 'route', 'show', '10.10.230.0/26']);
    const route = (JSON.parse(r.stdout) as { nexthops?: unknown[] }[])[0];
    if (route?.nexthops?.length === 2) return;
    if (Date.now() > deadline) throw new Error(`k8s-master has no ECMP route to 10.10.230.0/26: ${r.stdout}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Loss {
  sent: number;
  lost: number;
  /** Mean time between probes as sent (ping's 10 ms interval stretches on a loaded machine). */
  intervalMs: number;
  /** Lost probes × the mean interval. */
  lostMs: number;
  /** Longest time without a reply, minus one interval: the outage as the pod saw it. */
  outageMs: number;
}

function analyse(output: string): Loss {
  const replies = [...output.matchAll(/^\[(\d+\.\d+)\] .*icmp_seq=(\d+)/gm)].map((m) => ({ t: Number(m[1]) * 1000, seq: Number(m[2]) }));
  const sent = Number(/(\d+) packets transmitted/.exec(output)?.[1] ?? '0');
  if (replies.length < 2) return { sent, lost: sent, intervalMs: NaN, lostMs: NaN, outageMs: NaN };
  const first = replies[0]!;
  const last = replies[replies.length - 1]!;
  const intervalMs = (last.t - first.t) / (last.seq - first.seq);
  let outage = 0;
  for (let i = 1; i < replies.length; i += 1) outage = Math.max(outage, replies[i]!.t - replies[i - 1]!.t - intervalMs);
  const lost = sent - new Set(replies.map((r) => r.seq)).size;
  return { sent, lost, intervalMs, lostMs: lost * intervalMs, outageMs: Math.max(0, outage) };
}

const rows: (string | number)[][] = [];
const summary: (string | number)[][] = [];
try {
  if (calico) {
    await labOk(sandbox, ['up', '--wait']);
    for (const command of CALICO_SETUP) await labOk(sandbox, ['exec', 'k8s-master', '--', 'bash', '-c', command]);
  } else {
    // --fabric-only: the nodes keep the bootstrap BIRD configuration, peered with both TORs with BFD.
    await labOk(sandbox, ['up', '--fabric-only', '--wait']);
  }
  await converged();
  for (const mode of MODES) {
    const lost: number[] = [];
    for (let run = 1; run <= runs; run += 1) {
      await converged();
      const tor = await torOfProbe();
      const seconds = (LEAD_MS + TAIL_MS[mode]!) / 1000;
      const probe = spawnCollect([
        `${process.cwd()}/lab/bin/lab`, '--sandbox', sandbox, 'exec', FROM, '--',
        'ping', '-D', '-i', String(PROBE_INTERVAL_MS / 1000), '-W', '1', '-w', String(seconds), TO,
      ]);
      await new Promise((resolve) => setTimeout(resolve, LEAD_MS)); // a scheduled start, not a check
      await labOk(sandbox, ['fail', tor, '--mode', mode]);
      const result = await probe.done;
      await labOk(sandbox, ['restore']);
      const loss = analyse(result.stdout);
      lost.push(loss.outageMs);
      rows.push([mode, run, tor, loss.sent, loss.intervalMs.toFixed(1), loss.lost, Math.round(loss.lostMs), Math.round(loss.outageMs)]);
    }
    const worst = Math.max(...lost);
    summary.push([mode, Math.round(median(lost)), Math.round(worst), BUDGET_MS[mode]!, worst <= BUDGET_MS[mode]! ? 'met' : 'MISSED']);
  }
} finally {
  const r = await lab(sandbox, ['down']);
  if (r.code !== 0) await teardownAll([sandbox]);
}

console.log(`Pod-to-pod loss when the probe's rack1 TOR fails, probe every ${PROBE_INTERVAL_MS} ms (${machine()})\n`);
console.log(table(['mode', 'run', 'failed TOR', 'probes', 'mean interval (ms)', 'lost', 'lost × interval (ms)', 'outage (ms)'], rows));
console.log('');
console.log(table(['mode', 'median outage (ms)', 'worst outage (ms)', 'budget (ms)', 'verdict'], summary));
console.log('\noutage: the longest time without a reply, minus one probe interval.');
console.log(calico
  ? '\nBFD on the node sessions rendered by calico-node from the walkthrough\'s BGPPeers (failureDetectionMode: BFDIfDirectlyConnected), mesh disabled.'
  : '\nBFD on the node sessions comes from the bootstrap BIRD configuration (lab/bird-config.ts: bfd on); --calico configures it through the cluster instead.');
