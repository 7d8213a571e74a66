import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compilePattern, matchOutput, MAX_DIFF_LINES, plainLines, type CompiledPattern } from './matcher.ts';

function compiled(text: string): CompiledPattern {
  const result = compilePattern(text);
  if (!result.ok) throw new Error(`pattern did not compile: ${result.message}`);
  return result.pattern;
}

const matches = (pattern: string, output: string) => matchOutput(compiled(pattern), output).passed;

describe('plainLines', () => {
  it('strips ANSI colours, OSC sequences and normalises CR LF', () => {
    const raw = '\x1b[1;31mred\x1b[0m text\r\n\x1b]0;title\x07next\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\r\n';
    assert.deepEqual(plainLines(raw), ['red text', 'nextlink']);
  });
  it('keeps what follows a carriage return within a line, as a terminal shows a redrawn line', () => {
    assert.deepEqual(plainLines('10%\r50%\r100%\r\ndone\n'), ['100%', 'done']);
  });
  it('ignores trailing whitespace and trailing empty lines', () => {
    assert.deepEqual(plainLines('a  \r\nb\t\r\n\r\n\r\n'), ['a', 'b']);
  });
  it('removes cursor movement and mode sequences', () => {
    assert.deepEqual(plainLines('\x1b[?2004hx\x1b[2K\x1b[1Gy\x1b(B\x1b=\n'), ['xy']);
  });
});

describe('matchOutput', () => {
  it('matches literal lines exactly', () => {
    assert.ok(matches('hello\nworld', 'hello\r\nworld\r\n'));
    assert.ok(!matches('hello\nworld', 'hello\r\nworld!\r\n'));
    assert.ok(!matches('hello', 'hello\r\nmore\r\n'), 'extra lines fail');
    assert.ok(!matches('hello\nworld', 'hello\r\n'), 'missing lines fail');
  });
  it('treats regex characters in literal lines literally', () => {
    assert.ok(matches('a.b (x) [y] $z ^', 'a.b (x) [y] $z ^\n'));
    assert.ok(!matches('a.b', 'aXb\n'));
  });
  it('matches any text within a line with [..], including none', () => {
    assert.ok(matches('PING 10.0.0.2 [..] bytes', 'PING 10.0.0.2 (10.0.0.2) 56(84) bytes\n'));
    assert.ok(matches('a[..]b', 'ab\n'));
    assert.ok(matches('[..]', 'anything at all\n'));
    assert.ok(matches('x [..] y [..] z', 'x 1 y 2 z\n'));
    assert.ok(!matches('a[..]b', 'a\nb\n'), '[..] stays within one line');
    assert.ok(!matches('a[..]b', 'abc\n'));
  });
  it('matches any number of lines with ..., including none', () => {
    assert.ok(matches('start\n...\nend', 'start\r\nend\r\n'));
    assert.ok(matches('start\n...\nend', 'start\r\n1\r\n2\r\n3\r\nend\r\n'));
    assert.ok(matches('...\nend', 'x\ny\nend\n'));
    assert.ok(matches('start\n...', 'start\nx\ny\n'));
    assert.ok(matches('...', ''));
    assert.ok(matches('a\n...\nb\n...\nc', 'a\nb\nc\n'));
    assert.ok(matches('a\n...\na', 'a\na\na\n'), 'backtracks to the last "a"');
    assert.ok(!matches('start\n...\nend', 'start\nx\n'));
    assert.ok(!matches('  ...', 'x\ny\n'), 'only a line that is exactly ... is the wildcard');
  });
  it('matches a whole line against a (re) line', () => {
    assert.ok(matches('\\d+ packets transmitted, \\d+ received (re)', '3 packets transmitted, 3 received\n'));
    assert.ok(!matches('\\d+ packets (re)', '3 packets transmitted\n'), 'anchored at both ends');
    assert.ok(matches('(Established|Active) (re)', 'Active\n'), 'alternation is grouped as a whole line');
    assert.ok(!matches('a|b (re)', 'ab\n'));
  });
  it('combines every wildcard', () => {
    const pattern = 'Neighbor [..] State\n...\n10\\.0\\.\\d+\\.\\d+ +\\d+ +Established (re)\n...\nTotal [..]';
    const output = 'Neighbor  V  AS  State\n----\n10.0.1.1   65001   Established\n10.0.2.1   65002   Established\nTotal 2\n';
    assert.ok(matches(pattern, output));
  });
  it('matches empty expected output only against empty output', () => {
    assert.ok(matches('', '\r\n'));
    assert.ok(!matches('', 'x\n'));
  });
});

describe('compilePattern', () => {
  it('reports an invalid (re) line with its line number within the pattern', () => {
    const result = compilePattern('ok\nfine\nx([ (re)\n');
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.line, 3);
    assert.match(result.message, /^invalid regular expression "x\(\[" in a "\(re\)" line: /);
  });
});

describe('failure diff', () => {
  it('is a unified diff of expected against actual', () => {
    const result = matchOutput(compiled('one\ntwo\nthree'), 'one\nTWO\nthree\n');
    assert.equal(result.passed, false);
    if (result.passed) return;
    assert.equal(result.message, 'output did not match the expected output');
    assert.equal(result.diff, ['--- expected', '+++ actual', '@@ -1,3 +1,3 @@', ' one', '-two', '+TWO', ' three'].join('\n'));
  });
  it('shows lines that match wildcards as context, and ... once for the lines it absorbed', () => {
    const result = matchOutput(compiled('start [..]\n...\nend\nmissing'), 'start here\nx\ny\nend\n');
    assert.equal(result.passed, false);
    if (result.passed) return;
    assert.equal(result.diff, ['--- expected', '+++ actual', '@@ -1,4 +1,4 @@', ' start here', ' ...', ' end', '-missing'].join('\n'));
  });
  it('reports extra actual lines as additions', () => {
    const result = matchOutput(compiled('a'), 'a\nb\n');
    assert.equal(result.passed, false);
    if (result.passed) return;
    assert.equal(result.diff, ['--- expected', '+++ actual', '@@ -1,1 +1,2 @@', ' a', '+b'].join('\n'));
  });
  it('keeps three lines of context and splits distant changes into hunks', () => {
    const expected = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`);
    const actual = [...expected];
    actual[1] = 'changed 2';
    actual[17] = 'changed 18';
    const result = matchOutput(compiled(expected.join('\n')), actual.join('\n'));
    assert.equal(result.passed, false);
    if (result.passed) return;
    const hunks = result.diff.split('\n').filter((l) => l.startsWith('@@'));
    assert.deepEqual(hunks, ['@@ -1,5 +1,5 @@', '@@ -15,6 +15,6 @@']);
  });
  it('is cut to a bounded length for huge outputs', () => {
    const actual = Array.from({ length: 5000 }, (_, i) => `noise ${i}`).join('\n');
    const result = matchOutput(compiled('expected'), actual);
    assert.equal(result.passed, false);
    if (result.passed) return;
    const lines = result.diff.split('\n');
    assert.equal(lines.length, MAX_DIFF_LINES + 1);
    assert.match(lines.at(-1)!, /^\(\d+ more diff lines not shown\)$/);
  });
});
