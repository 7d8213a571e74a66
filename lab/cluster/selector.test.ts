import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SelectorError, matches, parseSelector } from './selector.ts';

const rack1 = { rack: 'rack1', 'kubernetes.io/hostname': 'k8s-master', 'node-role.kubernetes.io/master': '' };
const rack2 = { rack: 'rack2', 'kubernetes.io/hostname': 'k8s-worker-1' };

describe('selector evaluation', () => {
  const cases: Array<[string, boolean, boolean]> = [
    // selector, matches rack1 node, matches rack2 node
    ["rack == 'rack1'", true, false],
    ['rack == "rack2"', false, true],
    ["rack != 'rack1'", false, true],
    ["zone != 'a'", true, true],
    ['has(rack)', true, true],
    ['has(node-role.kubernetes.io/master)', true, false],
    ['!has(node-role.kubernetes.io/master)', false, true],
    ["rack in {'rack1', 'rack3'}", true, false],
    ['rack in {}', false, false],
    ["rack not in {'rack1'}", false, true],
    ["zone not in {'a'}", true, true],
    ["rack contains 'ck2'", false, true],
    ["kubernetes.io/hostname starts with 'k8s-w'", false, true],
    ["kubernetes.io/hostname ends with 'master'", true, false],
    ['all()', true, true],
    ['global()', true, true],
    ['', true, true],
    ["rack == 'rack1' || rack == 'rack2'", true, true],
    ["has(rack) && rack == 'rack2'", false, true],
    ["!(rack == 'rack1' || rack == 'rack2')", false, false],
    ["rack == 'rack1' || rack == 'rack2' && has(nothing)", true, false],
    ["(rack == 'rack1' || rack == 'rack2') && !has(nothing)", true, true],
    ["!!(rack == 'rack1')", true, false],
  ];
  for (const [selector, one, two] of cases) {
    it(`${JSON.stringify(selector)} → rack1 ${one}, rack2 ${two}`, () => {
      assert.equal(matches(selector, rack1), one);
      assert.equal(matches(selector, rack2), two);
    });
  }

  it('binds && tighter than ||', () => {
    assert.deepEqual(parseSelector("a == 'x' || b == 'y' && c == 'z'"), {
      op: 'or',
      operands: [
        { op: 'eq', key: 'a', value: 'x' },
        { op: 'and', operands: [{ op: 'eq', key: 'b', value: 'y' }, { op: 'eq', key: 'c', value: 'z' }] },
      ],
    });
  });

  it('allows a label key that is spelled like a keyword', () => {
    assert.equal(matches("in == 'x'", { in: 'x' }), true);
    assert.equal(matches('has(in)', { in: '' }), true);
  });
});

describe('selector errors say where and what was expected', () => {
  const cases: Array<[string, number, string, RegExp]> = [
    ["rack = 'rack1'", 6, '=', /expected one of ==, !=, in, not in, contains, starts with or ends with/],
    ['rack == rack1', 9, 'rack1', /expected a quoted string/],
    ["rack == 'rack1", 9, "'rack1", /expected a closing '/],
    ["rack == 'rack1' &&", 19, '', /unexpected end of selector at column 19/],
    ["(rack == 'rack1'", 17, '', /expected one of \), && or \|\|/],
    ["rack in {'a' 'b'}", 14, 'b', /expected one of , or \}/],
    ["rack in 'a'", 9, 'a', /expected \{/],
    ['has(rack', 9, '', /expected \)/],
    ["rack == 'a' rack == 'b'", 13, 'rack', /expected one of &&, \|\| or end of selector/],
    ["rack == 'a' & x", 13, '&', /expected one of &&, \|\| or end of selector/],
    ['== x', 1, '==', /expected one of a label key, has\(, !, \(, all\(\) or global\(\)/],
  ];
  for (const [selector, column, found, message] of cases) {
    it(JSON.stringify(selector), () => {
      assert.throws(
        () => parseSelector(selector),
        (error: unknown) => {
          assert.ok(error instanceof SelectorError);
          assert.equal(error.column, column);
          assert.equal(error.found, found);
          assert.match(error.message, message);
          assert.ok(error.message.includes(JSON.stringify(selector)), 'the message quotes the selector');
          return true;
        },
      );
    });
  }
});
