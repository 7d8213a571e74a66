// Calico's label selector language, as BGPPeer.nodeSelector, IPPool.nodeSelector and friends use it:
//
//   expr    := or
//   or      := and ( '||' and )*
//   and     := unary ( '&&' unary )*
//   unary   := '!' unary | primary
//   primary := '(' expr ')' | 'all()' | 'global()' | 'has(' key ')'
//            | key ( '==' | '!=' | 'contains' | 'starts with' | 'ends with' ) string
//            | key ( 'in' | 'not in' ) '{' [ string ( ',' string )* ] '}'
//
// Strings are single- or double-quoted, without escapes (as in Calico). A selector is parsed once
// into a tree and evaluated against label maps; a parse error says at which column, what was found
// and what was expected there.

export type Labels = Readonly<Record<string, string>>;

export type SelectorNode =
  | { readonly op: 'all' }
  | { readonly op: 'global' }
  | { readonly op: 'has'; readonly key: string }
  | { readonly op: 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith'; readonly key: string; readonly value: string }
  | { readonly op: 'in' | 'notIn'; readonly key: string; readonly values: readonly string[] }
  | { readonly op: 'not'; readonly operand: SelectorNode }
  | { readonly op: 'and' | 'or'; readonly operands: readonly SelectorNode[] };

/** A selector that does not parse: where (1-based column), what was found, what would have been valid. */
export class SelectorError extends Error {
  readonly selector: string;
  readonly column: number;
  readonly found: string;
  readonly expected: readonly string[];
  constructor(selector: string, column: number, found: string, expected: readonly string[]) {
    const what = found === '' ? 'end of selector' : `"${found}"`;
    super(
      `invalid selector ${JSON.stringify(selector)}: unexpected ${what} at column ${column}; expected ${describeExpected(expected)}`,
    );
    this.name = 'SelectorError';
    this.selector = selector;
    this.column = column;
    this.found = found;
    this.expected = expected;
  }
}

function describeExpected(expected: readonly string[]): string {
  if (expected.length === 1) return expected[0]!;
  return `one of ${expected.slice(0, -1).join(', ')} or ${expected.at(-1)}`;
}

type TokenKind =
  | 'key' | 'string' | 'eq' | 'ne' | 'not' | 'and' | 'or' | 'lparen' | 'rparen' | 'lbrace' | 'rbrace'
  | 'comma' | 'in' | 'notIn' | 'contains' | 'startsWith' | 'endsWith' | 'has' | 'all' | 'global' | 'end'
  /** A character that starts no token; the parser reports it with what it expected there. */
  | 'unknown';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** 0-based offset into the selector. */
  readonly at: number;
}

/** Label keys: an optional DNS-ish prefix with a slash, then name characters (Calico's charset). */
const KEY_CHARS = /[A-Za-z0-9_.\/-]/;
const WORD_OPERATORS: ReadonlyArray<readonly [RegExp, TokenKind]> = [
  [/^not\s+in(?![A-Za-z0-9_.\/-])/, 'notIn'],
  [/^starts\s+with(?![A-Za-z0-9_.\/-])/, 'startsWith'],
  [/^ends\s+with(?![A-Za-z0-9_.\/-])/, 'endsWith'],
  [/^contains(?![A-Za-z0-9_.\/-])/, 'contains'],
  [/^in(?![A-Za-z0-9_.\/-])/, 'in'],
  [/^has\s*\(/, 'has'],
  [/^all\s*\(\s*\)/, 'all'],
  [/^global\s*\(\s*\)/, 'global'],
];

function tokenize(selector: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < selector.length) {
    const c = selector[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const two = selector.slice(i, i + 2);
    const symbol: TokenKind | undefined =
      two === '==' ? 'eq' : two === '!=' ? 'ne' : two === '&&' ? 'and' : two === '||' ? 'or' : undefined;
    if (symbol) {
      tokens.push({ kind: symbol, text: two, at: i });
      i += 2;
      continue;
    }
    const single: TokenKind | undefined =
      c === '!' ? 'not' : c === '(' ? 'lparen' : c === ')' ? 'rparen' : c === '{' ? 'lbrace' : c === '}' ? 'rbrace' : c === ',' ? 'comma' : undefined;
    if (single) {
      tokens.push({ kind: single, text: c, at: i });
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const close = selector.indexOf(c, i + 1);
      if (close < 0) throw new SelectorError(selector, i + 1, selector.slice(i), [`a closing ${c}`]);
      tokens.push({ kind: 'string', text: selector.slice(i + 1, close), at: i });
      i = close + 1;
      continue;
    }
    const rest = selector.slice(i);
    const word = WORD_OPERATORS.find(([re]) => re.test(rest));
    // A word operator only where an operator can stand; `in` or `has` can also be label keys.
    if (word) {
      const match = word[0].exec(rest)!;
      const previous = tokens.at(-1);
      const operatorPosition = previous?.kind === 'key';
      const isOperator = word[1] === 'has' || word[1] === 'all' || word[1] === 'global' ? !operatorPosition : operatorPosition;
      if (isOperator) {
        tokens.push({ kind: word[1], text: match[0], at: i });
        i += match[0].length;
        continue;
      }
    }
    if (KEY_CHARS.test(c)) {
      let j = i;
      while (j < selector.length && KEY_CHARS.test(selector[j]!)) j++;
      tokens.push({ kind: 'key', text: selector.slice(i, j), at: i });
      i = j;
      continue;
    }
    tokens.push({ kind: 'unknown', text: c, at: i });
    i++;
  }
  tokens.push({ kind: 'end', text: '', at: selector.length });
  return tokens;
}

const COMPARISONS: Partial<Record<TokenKind, 'eq' | 'ne' | 'contains' | 'startsWith' | 'endsWith'>> = {
  eq: 'eq', ne: 'ne', contains: 'contains', startsWith: 'startsWith', endsWith: 'endsWith',
};
const COMPARISON_NAMES = ['==', '!=', 'in', 'not in', 'contains', 'starts with', 'ends with'];
const PRIMARY_NAMES = ['a label key', 'has(', '!', '(', 'all()', 'global()'];

class Parser {
  private position = 0;
  private readonly selector: string;
  private readonly tokens: Token[];
  constructor(selector: string) {
    this.selector = selector;
    this.tokens = tokenize(selector);
  }

  parse(): SelectorNode {
    if (this.peek().kind === 'end') return { op: 'all' }; // Calico treats an empty selector as all().
    const node = this.or();
    this.expect('end', ['&&', '||', 'end of selector']);
    return node;
  }

  private peek(): Token {
    return this.tokens[this.position]!;
  }
  private next(): Token {
    return this.tokens[this.position++]!;
  }
  private fail(token: Token, expected: readonly string[]): never {
    throw new SelectorError(this.selector, token.at + 1, token.text, expected);
  }
  private expect(kind: TokenKind, expected: readonly string[]): Token {
    const token = this.next();
    if (token.kind !== kind) this.fail(token, expected);
    return token;
  }

  private or(): SelectorNode {
    const operands = [this.and()];
    while (this.peek().kind === 'or') {
      this.next();
      operands.push(this.and());
    }
    return operands.length === 1 ? operands[0]! : { op: 'or', operands };
  }
  private and(): SelectorNode {
    const operands = [this.unary()];
    while (this.peek().kind === 'and') {
      this.next();
      operands.push(this.unary());
    }
    return operands.length === 1 ? operands[0]! : { op: 'and', operands };
  }
  private unary(): SelectorNode {
    if (this.peek().kind === 'not') {
      this.next();
      return { op: 'not', operand: this.unary() };
    }
    return this.primary();
  }
  private primary(): SelectorNode {
    const token = this.next();
    switch (token.kind) {
      case 'lparen': {
        const inner = this.or();
        this.expect('rparen', [')', '&&', '||']);
        return inner;
      }
      case 'all':
        return { op: 'all' };
      case 'global':
        return { op: 'global' };
      case 'has': {
        const key = this.expect('key', ['a label key']);
        this.expect('rparen', [')']);
        return { op: 'has', key: key.text };
      }
      case 'key':
        return this.comparison(token.text);
      default:
        return this.fail(token, PRIMARY_NAMES);
    }
  }
  private comparison(key: string): SelectorNode {
    const operator = this.next();
    const compare = COMPARISONS[operator.kind];
    if (compare) {
      const value = this.expect('string', ['a quoted string']);
      return { op: compare, key, value: value.text };
    }
    if (operator.kind === 'in' || operator.kind === 'notIn') {
      this.expect('lbrace', ['{']);
      const values: string[] = [];
      if (this.peek().kind !== 'rbrace') {
        values.push(this.expect('string', ['a quoted string', '}']).text);
        while (this.peek().kind === 'comma') {
          this.next();
          values.push(this.expect('string', ['a quoted string']).text);
        }
      }
      this.expect('rbrace', [',', '}']);
      return { op: operator.kind, key, values };
    }
    return this.fail(operator, COMPARISON_NAMES);
  }
}

/** Parses a selector; throws SelectorError for a malformed one. */
export function parseSelector(selector: string): SelectorNode {
  return new Parser(selector).parse();
}

/** Whether `selector` parses; the error when it does not. */
export function checkSelector(selector: string): SelectorError | undefined {
  try {
    parseSelector(selector);
    return undefined;
  } catch (error) {
    if (error instanceof SelectorError) return error;
    throw error;
  }
}

export function evaluate(node: SelectorNode, labels: Labels): boolean {
  switch (node.op) {
    case 'all':
    case 'global':
      return true;
    case 'has':
      return Object.hasOwn(labels, node.key);
    case 'eq':
      return Object.hasOwn(labels, node.key) && labels[node.key] === node.value;
    case 'ne':
      return !Object.hasOwn(labels, node.key) || labels[node.key] !== node.value;
    case 'contains':
      return Object.hasOwn(labels, node.key) && labels[node.key]!.includes(node.value);
    case 'startsWith':
      return Object.hasOwn(labels, node.key) && labels[node.key]!.startsWith(node.value);
    case 'endsWith':
      return Object.hasOwn(labels, node.key) && labels[node.key]!.endsWith(node.value);
    case 'in':
      return Object.hasOwn(labels, node.key) && node.values.includes(labels[node.key]!);
    case 'notIn':
      return !Object.hasOwn(labels, node.key) || !node.values.includes(labels[node.key]!);
    case 'not':
      return !evaluate(node.operand, labels);
    case 'and':
      return node.operands.every((operand) => evaluate(operand, labels));
    case 'or':
      return node.operands.some((operand) => evaluate(operand, labels));
  }
}

/** Parses and evaluates in one go (for callers that hold an already validated selector). */
export function matches(selector: string, labels: Labels): boolean {
  return evaluate(parseSelector(selector), labels);
}
