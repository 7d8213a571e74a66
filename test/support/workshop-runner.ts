// Starts `runner/workshop/cli.ts` as a child process for tests and benches, reads its banner, and
// stops it: SIGTERM (graceful, ends shells and labs) or SIGKILL (the crash the restart test needs).

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseWorkshopBanner, type WorkshopInfo } from './workshop-client.ts';
import { LAB_WAIT_MS } from './deadlines.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const START_TIMEOUT_MS = LAB_WAIT_MS;
const STOP_TIMEOUT_MS = LAB_WAIT_MS;

export type WorkshopProcess = WorkshopInfo & { child: ChildProcess; logFile: string; stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void> };

export async function startWorkshop(args: string[], logFile: string): Promise<WorkshopProcess> {
  const log = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [path.join(ROOT, 'runner/workshop/cli.ts'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', log],
  });
  fs.closeSync(log);
  let stdout = '';
  child.stdout!.setEncoding('utf8');
  const info = await new Promise<WorkshopInfo>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the workshop did not start within ${START_TIMEOUT_MS} ms; see ${logFile}`)), START_TIMEOUT_MS);
    child.stdout!.on('data', (chunk: string) => {
      stdout += chunk;
      const parsed = parseWorkshopBanner(stdout);
      if (parsed) {
        clearTimeout(timer);
        resolve(parsed);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the workshop exited with ${code} before it was ready; see ${logFile}:\n${fs.readFileSync(logFile, 'utf8').slice(-2000)}`));
    });
  });
  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };
  return { ...info, child, logFile, stop };
}
