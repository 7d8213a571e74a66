// Click-to-first-output latency over the WebSocket on loopback: starts the runner (node
// runner/main.ts) with a one-block course in a temporary directory, connects as a page does, sends
// `run` for the block RUNS times (after a warm-up) and measures, per run, the time from sending
// `run` to the first byte of the command's own output (not the echo of the typed line), and to
// the block's `passed` frame. Prints a table with p50/p95/max.
//
//   npm run bench:latency [-- --runs 500]
//
// Budget (DESIGN.md): click Run -> first output byte drawn, p95 <= 30 ms. This measures the
// runner's part of it; the page's drawing is measured by the browser tests' traces.

import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import {
  decodeChannelFrame,
  FLOW_ACK_CHUNK_BYTES,
  parseServerMessage,
  PROTOCOL_VERSION,
  WEBSOCKET_PATH,
  type CourseManifest,
  type ServerMessage,
} from '../runner/protocol.ts';
import { newLearner } from '../scripts/course-check/client.ts';

const MAIN = path.resolve(import.meta.dirname, '../runner/main.ts');
const DEFAULT_RUNS = 200;
const WARMUP_RUNS = 10;
/** A run that takes longer than this is reported as a failure of the bench, not measured. */
const RUN_TIMEOUT_MS = 10_000;
/** What the block prints; its typed line (`printf '%s-%s\n' lat ency`) does not contain it. */
const MARKER = 'lat-ency';

function parseRuns(argv: string[]): number {
  const i = argv.indexOf('--runs');
  if (i === -1) return DEFAULT_RUNS;
  const runs = Number(argv[i + 1]);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs needs a positive integer, got ${JSON.stringify(argv[i + 1])}`);
  return runs;
}

const manifest: CourseManifest = {
  version: 1,
  lessons: [
    {
      id: 'bench',
      title: 'Bench',
      order: 1,
      terminals: [{ name: 'main', title: 'Main' }],
      steps: [
        {
          id: 'bench/latency',
          title: 'Latency',
          checks: [],
          blocks: [
            {
              id: 'bench/latency/1',
              terminal: 'main',
              code: "printf '%s-%s\\n' lat ency\n",
              interrupt: false,
              expect: MARKER,
              exitCode: 0,
              source: { file: 'bench/click-latency.ts', line: 1 },
            },
          ],
        },
      ],
    },
  ],
};

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

function row(name: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  const cells = [percentile(sorted, 50), percentile(sorted, 95), sorted.at(-1)!, mean].map((v) => v.toFixed(2).padStart(8));
  return `| ${name.padEnd(30)} | ${String(samples.length).padStart(5)} | ${cells.join(' | ')} |`;
}

async function main(): Promise<void> {
  const runs = parseRuns(process.argv.slice(2));
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-latency-'));
  const site = path.join(dir, 'site');
  await mkdir(site);
  await writeFile(path.join(site, 'index.html'), '<!doctype html><title>bench</title>\n');
  await writeFile(path.join(site, 'course-manifest.json'), JSON.stringify(manifest));
  const child = spawn(process.execPath, [MAIN, '--site', site, '--state', path.join(dir, 'state'), '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stopChild = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  const onSignal = () => {
    stopChild()
      .then(() => rm(dir, { recursive: true, force: true }))
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let ws: WebSocket | undefined;
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (d: string) => {
        out += d;
        const match = /Course ready: (\S+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`runner exited with ${code} before it was ready`)));
    });
    const { cookie, token } = await newLearner(url);
    const wsUrl = new URL(WEBSOCKET_PATH, url.replace(/^http/, 'ws'));
    wsUrl.searchParams.set('token', token);
    const socket = new WebSocket(wsUrl, { origin: new URL(url).origin, headers: { cookie } });
    ws = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });

    // One listener; each run installs what it waits for.
    let onOutput: ((text: string, at: number) => void) | null = null;
    let onMessage: ((message: ServerMessage, at: number) => void) | null = null;
    let channel = -1;
    let unacked = 0;
    socket.on('message', (data, isBinary) => {
      const at = performance.now();
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (isBinary) {
        const frame = decodeChannelFrame(buffer);
        if (!frame) return;
        unacked += frame.data.byteLength;
        if (unacked >= FLOW_ACK_CHUNK_BYTES) {
          socket.send(JSON.stringify({ type: 'ack', channel: frame.channel, bytes: unacked }));
          unacked = 0;
        }
        onOutput?.(Buffer.from(frame.data).toString('utf8'), at);
        return;
      }
      const parsed = parseServerMessage(buffer.toString('utf8'));
      if (!parsed.ok) throw new Error(`runner sent an invalid frame: ${parsed.message}`);
      if (parsed.value.type === 'error') throw new Error(`runner error: ${parsed.value.message}`);
      onMessage?.(parsed.value, at);
    });
    const waitMessage = (test: (m: ServerMessage) => boolean) =>
      new Promise<ServerMessage>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out waiting for the runner')), RUN_TIMEOUT_MS);
        onMessage = (m) => {
          if (!test(m)) return;
          clearTimeout(timer);
          onMessage = null;
          resolve(m);
        };
      });

    const welcome = waitMessage((m) => m.type === 'welcome');
    socket.send(JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION, lesson: 'bench' }));
    await welcome;
    const opened = waitMessage((m) => m.type === 'opened');
    socket.send(JSON.stringify({ type: 'open', terminal: 'main', size: { cols: 120, rows: 40 } }));
    const openedMessage = await opened;
    if (openedMessage.type === 'opened') channel = openedMessage.channel;

    const firstOutput: number[] = [];
    const passed: number[] = [];
    for (let i = 0; i < WARMUP_RUNS + runs; i++) {
      let seen = '';
      let outputAt = -1;
      const done = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`run ${i}: no result in ${RUN_TIMEOUT_MS} ms`)), RUN_TIMEOUT_MS);
        onOutput = (text, at) => {
          if (outputAt >= 0) return;
          seen += text;
          if (seen.includes(MARKER)) outputAt = at;
        };
        onMessage = (m, at) => {
          if (m.type !== 'block' || (m.status.state !== 'passed' && m.status.state !== 'failed')) return;
          clearTimeout(timer);
          if (m.status.state === 'failed') reject(new Error(`run ${i}: block failed: ${JSON.stringify(m.status.results)}`));
          else resolve(at);
        };
      });
      const sentAt = performance.now();
      socket.send(JSON.stringify({ type: 'run', block: 'bench/latency/1' }));
      const passedAt = await done;
      if (outputAt < 0) throw new Error(`run ${i}: the block passed but its output never arrived`);
      if (i >= WARMUP_RUNS) {
        firstOutput.push(outputAt - sentAt);
        passed.push(passedAt - sentAt);
      }
    }

    process.stdout.write(
      [
        `click latency over the WebSocket on loopback, ${runs} runs after ${WARMUP_RUNS} warm-up, Node ${process.version}, channel ${channel}`,
        '',
        `| ${'measure (ms)'.padEnd(30)} | ${'runs'.padStart(5)} | ${'p50'.padStart(8)} | ${'p95'.padStart(8)} | ${'max'.padStart(8)} | ${'mean'.padStart(8)} |`,
        `|${'-'.repeat(32)}|${'-'.repeat(7)}|${'-'.repeat(10)}|${'-'.repeat(10)}|${'-'.repeat(10)}|${'-'.repeat(10)}|`,
        row('run -> first output byte', firstOutput),
        row('run -> block passed', passed),
        '',
        `budget: first output p95 <= 30 ms (DESIGN.md): ${percentile([...firstOutput].sort((a, b) => a - b), 95) <= 30 ? 'met' : 'NOT met'}`,
        '',
      ].join('\n'),
    );
  } finally {
    ws?.close();
    await stopChild();
    await rm(dir, { recursive: true, force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
