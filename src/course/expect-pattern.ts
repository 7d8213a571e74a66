// Build-time checks of an expected-output pattern (the cram/trycmd conventions the runner's matcher
// implements): literal lines, a line `...` for any number of lines, `[..]` for any text within a
// line, and a line ending in ` (re)` that is a regular expression for the whole line.

export const RE_SUFFIX = ' (re)';

export type PatternProblem = { lineOffset: number; message: string };

/** Returns the problems of a pattern, each with its 0-based line within the pattern. */
export function checkExpectPattern(pattern: string): PatternProblem[] {
  const problems: PatternProblem[] = [];
  for (const [index, line] of pattern.split('\n').entries()) {
    if (!line.endsWith(RE_SUFFIX)) continue;
    const source = line.slice(0, -RE_SUFFIX.length);
    try {
      // Compiled exactly as runner/matcher.ts does, so what builds is what runs.
      new RegExp(`^(?:${source})$`);
    } catch (error) {
      problems.push({
        lineOffset: index,
        message: `invalid regular expression in an "(re)" line: ${(error as Error).message}; allowed: a JavaScript regular expression for the whole line, followed by " (re)"`,
      });
    }
  }
  return problems;
}
