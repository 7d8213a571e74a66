import assert from 'node:assert/strict';
import { test } from 'node:test';
import { markPatternWildcards } from './expect-display.ts';

const line = (text: string) => `<span class="line"><span>${text}</span></span>`;

test('[..] becomes an "any text" mark, every time it appears', () => {
  const html = markPatternWildcards(line('k8s-master [..]Ready [..]master'));
  assert.equal((html.match(/title="any text"/g) ?? []).length, 2);
  assert.ok(!html.includes('[..]'));
  assert.ok(html.includes('k8s-master '));
});

test('a line of its own "..." becomes an "any number of lines" mark', () => {
  const html = markPatternWildcards(`${line('NAME')}\n${line('...')}\n${line('fabric ready')}`);
  assert.match(html, /<span class="line"><span class="pattern-mark pattern-mark--lines"[^>]*>⋮ more lines<\/span><\/span>/);
  assert.ok(html.includes(line('NAME')) && html.includes(line('fabric ready')));
});

test('"..." inside a line is output, not a wildcard', () => {
  assert.equal(markPatternWildcards(line('loading...')), line('loading...'));
});

test('a " (re)" suffix becomes a regex mark; the expression itself stays visible', () => {
  const html = markPatternWildcards(line('\\d+ packets (re)'));
  assert.ok(html.includes('\\d+ packets <span class="pattern-mark pattern-mark--regex"'));
  assert.ok(!html.includes('(re)'));
});

test('HTML without wildcards is returned unchanged', () => {
  const html = `${line('Successfully applied 1 &#39;BGPConfiguration&#39; resource(s)')}`;
  assert.equal(markPatternWildcards(html), html);
});
