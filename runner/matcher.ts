// Expected-output patterns, in the cram/trycmd conventions, matched against a command's output.
//
//   a literal line        matches a line equal to it
//   ...                   (a line of its own) matches any number of lines, none included
//   text [..] text        `[..]` matches any text within one line, nothing included
//   ^\d+ packets$ (re)    a line ending in " (re)" is a regular expression for the whole line
//
// The output is first made plain: ANSI/OSC escape sequences removed, `\r\n` turned into `\n`, a
// carriage return inside a line keeps only what follows it (as a terminal shows a redrawn line).
// Trailing whitespace on a line is not significant on either side, nor are trailing empty lines.
// A failed match comes with a unified diff of expected against actual, aligned so that lines that
// do match are context and `...` stands for the lines it absorbed.

export const ANY_LINES = '...';
export const ANY_TEXT = '[..]';
export const REGEX_SUFFIX = ' (re)';

/** Beyond this many alignment cells the diff is not aligned but listed plainly (keeps it fast). */
const MAX_ALIGNMENT_CELLS = 4_000_000;
/** The diff shown beside a block is cut to this many lines, the rest counted. */
export const MAX_DIFF_LINES = 200;
/** Unchanged lines shown around each change, as `diff -u` does. */
const DIFF_CONTEXT_LINES = 3;

type PatternLine =
  | { kind: 'any-lines'; text: string }
  | { kind: 'literal'; text: string }
  | { kind: 'regex'; text: string; regex: RegExp };

export type CompiledPattern = { readonly lines: readonly PatternLine[] };

export type CompileResult =
  | { ok: true; pattern: CompiledPattern }
  /** `line` is 1-based within the pattern text. */
  | { ok: false; line: number; message: string };

export type MatchResult = { passed: true } | { passed: false; message: string; diff: string };

const ANSI_SEQUENCE =
  // OSC ... (BEL | ST), CSI ... final, two-character ESC sequences, and C1 single-byte forms.
  /\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b\[[0-?]*[ -/]*[@-~]|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*[0-~]|\x9b[0-?]*[ -/]*[@-~]/g;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function trimEnd(line: string): string {
  return line.replace(/[ \t]+$/, '');
}

export function compilePattern(text: string): CompileResult {
  const raw = text.replace(/\r\n?/g, '\n').split('\n').map(trimEnd);
  while (raw.length > 0 && raw.at(-1) === '') raw.pop();
  const lines: PatternLine[] = [];
  for (const [index, line] of raw.entries()) {
    if (line === ANY_LINES) {
      lines.push({ kind: 'any-lines', text: line });
    } else if (line.endsWith(REGEX_SUFFIX)) {
      const source = line.slice(0, -REGEX_SUFFIX.length);
      try {
        lines.push({ kind: 'regex', text: line, regex: new RegExp(`^(?:${source})$`) });
      } catch (error) {
        return {
          ok: false,
          line: index + 1,
          message: `invalid regular expression ${JSON.stringify(source)} in a "(re)" line: ${(error as Error).message}`,
        };
      }
    } else if (line.includes(ANY_TEXT)) {
      const source = line.split(ANY_TEXT).map(escapeRegExp).join('.*?');
      lines.push({ kind: 'regex', text: line, regex: new RegExp(`^${source}$`, 's') });
    } else {
      lines.push({ kind: 'literal', text: line });
    }
  }
  return { ok: true, pattern: { lines } };
}

/** Terminal output as the plain lines a reader sees. */
export function plainLines(output: string): string[] {
  const lines = output
    .replace(ANSI_SEQUENCE, '')
    .replace(/\r+\n/g, '\n')
    .split('\n')
    .map((line) => trimEnd(line.slice(line.lastIndexOf('\r') + 1)));
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();
  return lines;
}

function lineMatches(pattern: PatternLine, line: string): boolean {
  switch (pattern.kind) {
    case 'literal':
      return pattern.text === line;
    case 'regex':
      return pattern.regex.test(line);
    case 'any-lines':
      return true;
  }
}

export function matchOutput(pattern: CompiledPattern, output: string): MatchResult {
  const actual = plainLines(output);
  const { lines } = pattern;
  // reachable[i]: the pattern lines so far can consume exactly the first i actual lines.
  let reachable = new Uint8Array(actual.length + 1);
  reachable[0] = 1;
  for (const line of lines) {
    const next = new Uint8Array(actual.length + 1);
    if (line.kind === 'any-lines') {
      const first = reachable.indexOf(1);
      if (first !== -1) next.fill(1, first);
    } else {
      for (let i = 0; i < actual.length; i++) {
        if (reachable[i] && lineMatches(line, actual[i]!)) next[i + 1] = 1;
      }
    }
    reachable = next;
  }
  if (reachable[actual.length]) return { passed: true };
  const diff = unifiedDiff(lines, actual);
  return { passed: false, message: 'output did not match the expected output', diff };
}

/** `...` shows as one context line standing for `newLines` actual lines (0 or more). */
type DiffLine = { op: ' ' | '-' | '+'; text: string; newLines?: number };

function oldSpan(line: DiffLine): number {
  return line.op === '+' ? 0 : 1;
}
function newSpan(line: DiffLine): number {
  return line.newLines ?? (line.op === '-' ? 0 : 1);
}

function align(lines: readonly PatternLine[], actual: readonly string[]): DiffLine[] {
  const P = lines.length;
  const A = actual.length;
  if ((P + 1) * (A + 1) > MAX_ALIGNMENT_CELLS) {
    return [...lines.map((l) => ({ op: '-' as const, text: l.text })), ...actual.map((t) => ({ op: '+' as const, text: t }))];
  }
  // cost[p][a]: fewest changed lines to align pattern[p..] with actual[a..].
  const width = A + 1;
  const cost = new Uint32Array((P + 1) * width);
  for (let a = A - 1; a >= 0; a--) cost[P * width + a] = A - a;
  for (let p = P - 1; p >= 0; p--) {
    const line = lines[p]!;
    for (let a = A; a >= 0; a--) {
      let best = cost[(p + 1) * width + a]! + (line.kind === 'any-lines' ? 0 : 1);
      if (a < A) {
        if (line.kind === 'any-lines') best = Math.min(best, cost[p * width + a + 1]!);
        else if (lineMatches(line, actual[a]!)) best = Math.min(best, cost[(p + 1) * width + a + 1]!);
        best = Math.min(best, cost[p * width + a + 1]! + 1);
      }
      cost[p * width + a] = best;
    }
  }
  const out: DiffLine[] = [];
  let p = 0;
  let a = 0;
  let absorbing = false;
  while (p < P || a < A) {
    const here = cost[p * width + a]!;
    const line = lines[p];
    if (line && a < A) {
      if (line.kind === 'any-lines' && cost[p * width + a + 1] === here) {
        if (!absorbing) out.push({ op: ' ', text: line.text, newLines: 0 });
        out.at(-1)!.newLines! += 1;
        absorbing = true;
        a++;
        continue;
      }
      if (line.kind !== 'any-lines' && lineMatches(line, actual[a]!) && cost[(p + 1) * width + a + 1] === here) {
        out.push({ op: ' ', text: actual[a]! });
        p++;
        a++;
        absorbing = false;
        continue;
      }
    }
    if (line && cost[(p + 1) * width + a]! + (line.kind === 'any-lines' ? 0 : 1) === here) {
      if (line.kind === 'any-lines') {
        if (!absorbing) out.push({ op: ' ', text: line.text, newLines: 0 });
      } else {
        out.push({ op: '-', text: line.text });
      }
      p++;
      absorbing = false;
      continue;
    }
    out.push({ op: '+', text: actual[a]! });
    a++;
  }
  return out;
}

/** A unified diff (`--- expected`, `+++ actual`, `@@` hunks with 3 lines of context). */
export function unifiedDiff(lines: readonly PatternLine[], actual: readonly string[]): string {
  const aligned = align(lines, actual);
  const changed = aligned.map((l) => l.op !== ' ');
  const keep = aligned.map((_, i) => {
    for (let j = Math.max(0, i - DIFF_CONTEXT_LINES); j <= Math.min(aligned.length - 1, i + DIFF_CONTEXT_LINES); j++) {
      if (changed[j]) return true;
    }
    return false;
  });
  const out = ['--- expected', '+++ actual'];
  let oldLine = 1;
  let newLine = 1;
  let i = 0;
  while (i < aligned.length) {
    if (!keep[i]) {
      oldLine += oldSpan(aligned[i]!);
      newLine += newSpan(aligned[i]!);
      i++;
      continue;
    }
    const start = i;
    while (i < aligned.length && keep[i]) i++;
    const hunk = aligned.slice(start, i);
    const oldCount = hunk.reduce((n, l) => n + oldSpan(l), 0);
    const newCount = hunk.reduce((n, l) => n + newSpan(l), 0);
    out.push(`@@ -${oldCount ? oldLine : oldLine - 1},${oldCount} +${newCount ? newLine : newLine - 1},${newCount} @@`);
    for (const l of hunk) out.push(`${l.op}${l.text}`);
    oldLine += oldCount;
    newLine += newCount;
  }
  if (out.length > MAX_DIFF_LINES) {
    const cut = out.length - MAX_DIFF_LINES;
    out.length = MAX_DIFF_LINES;
    out.push(`(${cut} more diff lines not shown)`);
  }
  return out.join('\n');
}
