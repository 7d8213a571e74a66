// Words and markup for block and step states, in one place so every element says the same thing.

import type { BlockStatus, CheckResult, StepStatus } from '../../runner/protocol.ts';

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** Why a block or step failed, in one line: the messages of the failed checks. */
export function failureReason(results: readonly CheckResult[]): string {
  const failed = results.filter((result) => !result.passed);
  return failed.map((result) => result.message).join('; ') || 'a check did not pass';
}

export function blockStateText(status: BlockStatus): string {
  switch (status.state) {
    case 'idle':
      return 'Not run';
    case 'queued':
      return 'Queued';
    case 'running':
      return 'Running…';
    case 'passed': {
      const parts = ['Passed'];
      if (status.exitCode !== undefined) parts.push(`exit ${status.exitCode}`);
      // Under a millisecond says nothing useful about a command.
      if (status.durationMs !== undefined && status.durationMs >= 1) parts.push(formatDuration(status.durationMs));
      return parts.join(' · ');
    }
    case 'failed':
      return status.exitCode !== undefined ? `Failed · exit ${status.exitCode}` : 'Failed';
  }
}

export function stepStateText(status: StepStatus): string {
  switch (status.state) {
    case 'idle':
      return 'Not done yet';
    case 'running':
      return 'Checking…';
    case 'passed':
      return 'Done';
    case 'failed':
      return 'Not passed yet';
  }
}

/**
 * A unified diff as a <pre> whose lines are marked as removed (expected, not seen), added (seen,
 * not expected) or context, so colour is not the only cue: each line keeps its `-`/`+` sign.
 */
export function renderDiff(diff: string): HTMLElement {
  const pre = document.createElement('pre');
  pre.className = 'diff';
  for (const line of diff.replace(/\n$/, '').split('\n')) {
    // The file header lines say what the legend above the diff already says.
    if (line.startsWith('--- ') || line.startsWith('+++ ')) continue;
    const row = document.createElement('span');
    row.className =
      line.startsWith('@@') ? 'diff__hunk'
      : line.startsWith('-') ? 'diff__del'
      : line.startsWith('+') ? 'diff__add'
      : 'diff__ctx';
    row.textContent = `${line}\n`;
    pre.append(row);
  }
  return pre;
}
