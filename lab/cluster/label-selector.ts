// Kubernetes label selectors, as `kubectl -l` takes them: comma-separated requirements
// `key`, `!key`, `key=value`, `key==value`, `key!=value`, `key in (a,b)`, `key notin (a,b)`.
// (Calico's selector language, used inside Calico resources, is selector.ts.)

export type Requirement =
  | { readonly op: 'exists' | 'notExists'; readonly key: string }
  | { readonly op: 'eq' | 'ne'; readonly key: string; readonly value: string }
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] };

/** A selector Kubernetes' parser would refuse; the message is its own wording. */
export class LabelSelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabelSelectorError';
  }
}

const TOKEN = /\s*(!=|==|=|!|\(|\)|,|[A-Za-z0-9_.\/-]+)/y;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    TOKEN.lastIndex = at;
    const match = TOKEN.exec(text);
    if (!match) throw new LabelSelectorError(`found '${text.slice(at).trim()[0]}', expected: identifier`);
    tokens.push(match[1]!);
    at = TOKEN.lastIndex;
  }
  return tokens;
}

const isIdentifier = (token: string | undefined) => token !== undefined && /^[A-Za-z0-9_.\/-]+$/.test(token);

export function parseLabelSelector(text: string): Requirement[] {
  const tokens = tokenize(text);
  const requirements: Requirement[] = [];
  let i = 0;
  const next = () => tokens[i++];
  const found = (token: string | undefined) => (token === undefined ? '' : token);
  while (i < tokens.length) {
    let token = next();
    if (token === '!') {
      const key = next();
      if (!isIdentifier(key)) throw new LabelSelectorError(`found '${found(key)}', expected: identifier after '!'`);
      requirements.push({ op: 'notExists', key: key! });
    } else if (isIdentifier(token)) {
      const key = token!;
      const operator = tokens[i];
      if (operator === undefined || operator === ',') {
        requirements.push({ op: 'exists', key });
      } else if (operator === '=' || operator === '==' || operator === '!=') {
        i++;
        const value = tokens[i];
        if (value === undefined || value === ',') requirements.push({ op: operator === '!=' ? 'ne' : 'eq', key, value: '' });
        else if (isIdentifier(value)) {
          i++;
          requirements.push({ op: operator === '!=' ? 'ne' : 'eq', key, value });
        } else throw new LabelSelectorError(`found '${value}', expected: identifier`);
      } else if (operator === 'in' || operator === 'notin') {
        i++;
        if (next() !== '(') throw new LabelSelectorError(`found '${found(tokens[i - 1])}', expected: '('`);
        const values: string[] = [];
        for (;;) {
          token = next();
          if (token === ')') break;
          if (!isIdentifier(token)) throw new LabelSelectorError(`found '${found(token)}', expected: ',', ')' or identifier`);
          values.push(token!);
          const separator = next();
          if (separator === ')') break;
          if (separator !== ',') throw new LabelSelectorError(`found '${found(separator)}', expected: ',' or ')'`);
        }
        requirements.push({ op: operator, key, values });
      } else {
        throw new LabelSelectorError(`found '${operator}', expected: in, notin, =, ==, !=, gt, lt`);
      }
    } else {
      throw new LabelSelectorError(`found '${found(token)}', expected: !, identifier, or 'end of string'`);
    }
    if (i < tokens.length) {
      const separator = next();
      if (separator !== ',') throw new LabelSelectorError(`found '${found(separator)}', expected: ',' or 'end of string'`);
      if (i >= tokens.length) throw new LabelSelectorError("found '', expected: !, identifier, or 'end of string'");
    }
  }
  return requirements;
}

export function labelsMatch(requirements: readonly Requirement[], labels: Readonly<Record<string, string>>): boolean {
  return requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'notExists':
        return !has;
      case 'eq':
        return has && labels[r.key] === r.value;
      case 'ne':
        return !has || labels[r.key] !== r.value;
      case 'in':
        return has && r.values.includes(labels[r.key]!);
      case 'notin':
        return !has || !r.values.includes(labels[r.key]!);
    }
  });
}
