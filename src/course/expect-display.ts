// How an expected-output pattern is shown to a learner. The pattern's wildcards (runner/matcher.ts:
// `[..]` any text in a line, a `...` line for any lines, a ` (re)` suffix for a regex line) are
// notation for the checker, not output the learner will see, so the highlighted HTML gets them
// replaced by small labelled marks that read as "anything here".
//
// Works on the HTML Shiki produces for a `text` block: one `<span class="line">` per line, the
// line's text inside one plain `<span>`. The wildcards contain no HTML-special characters, so they
// appear in that HTML as written.

const ANY_TEXT_MARK = '<span class="pattern-mark" title="any text">…</span>';
const ANY_LINES_MARK = '<span class="pattern-mark pattern-mark--lines" title="any number of lines">⋮ more lines</span>';
const REGEX_MARK = '<span class="pattern-mark pattern-mark--regex" title="this line is a regular expression">regex</span>';

/** A `...` line: Shiki wraps it as the only text of its line. */
const ANY_LINES_LINE = /(<span class="line">)<span[^>]*>\.\.\.<\/span>(<\/span>)/g;
/** A line ending in ` (re)`. */
const REGEX_SUFFIX = / \(re\)(<\/span><\/span>)/g;

export function markPatternWildcards(html: string): string {
  return html
    .replace(ANY_LINES_LINE, `$1${ANY_LINES_MARK}$2`)
    .replace(REGEX_SUFFIX, ` ${REGEX_MARK}$1`)
    .replaceAll('[..]', ANY_TEXT_MARK);
}
