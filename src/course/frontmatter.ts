// Reads a lesson's YAML front matter and validates it, reporting each problem at the line of the
// key that is wrong (the content collection would only say which entry).

import { LineCounter, parseDocument, isMap, isNode, type Node as YamlNode } from 'yaml';
import { FRONTMATTER_KEYS, lessonFrontmatterSchema, type LessonFrontmatter } from './lesson-schema.ts';
import type { LessonError } from './lesson-error.ts';

const FENCE = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;

export type FrontmatterResult = { ok: true; value: LessonFrontmatter } | { ok: false; errors: LessonError[] };

export function parseLessonFrontmatter(source: string, file: string): FrontmatterResult {
  const match = FENCE.exec(source);
  if (!match) {
    return fail(file, 1, `missing front matter: a lesson starts with a "---" block; allowed keys: ${FRONTMATTER_KEYS.join(', ')}`);
  }
  // The YAML starts on line 2, right after the opening fence.
  const firstLine = 2;
  const lineCounter = new LineCounter();
  const document = parseDocument(match[1] ?? '', { lineCounter, prettyErrors: false });
  if (document.errors.length > 0) {
    return {
      ok: false,
      errors: document.errors.map((error) => ({
        file,
        line: firstLine + lineCounter.linePos(error.pos[0]).line - 1,
        message: `front matter is not valid YAML: ${error.message.split('\n')[0]}`,
      })),
    };
  }
  const data: unknown = document.toJS() ?? {};
  const result = lessonFrontmatterSchema.safeParse(data);
  if (result.success) return { ok: true, value: result.data };

  const errors: LessonError[] = [];
  for (const issue of result.error.issues) {
    const path = issue.path.map(String);
    const lineOf = (keys: readonly string[]): number => {
      const node = document.getIn(keys, true);
      const range = isNode(node) ? (node as YamlNode).range : undefined;
      if (range) return firstLine + lineCounter.linePos(range[0]).line - 1;
      return keys.length > 0 ? lineOf(keys.slice(0, -1)) : 1;
    };
    if (issue.code === 'unrecognized_keys') {
      const contents = document.contents;
      for (const key of issue.keys) {
        let line = 1;
        if (isMap(contents)) {
          const pair = contents.items.find((item) => isNode(item.key) && (item.key as YamlNode & { value?: unknown }).value === key);
          const range = pair && isNode(pair.key) ? (pair.key as YamlNode).range : undefined;
          if (range) line = firstLine + lineCounter.linePos(range[0]).line - 1;
        }
        errors.push({ file, line, message: `front matter: unknown key "${key}"; allowed: ${FRONTMATTER_KEYS.join(', ')}` });
      }
      continue;
    }
    const where = path.length > 0 ? path.join('.') : '(front matter)';
    const missing = issue.code === 'invalid_type' && document.getIn(path) === undefined;
    const message = missing ? `front matter: "${where}" is required` : `front matter: "${where}": ${issue.message}`;
    errors.push({ file, line: missing ? 1 : lineOf(path), message: `${message}; ${describeKey(path[0])}` });
  }
  return { ok: false, errors };
}

function describeKey(key: string | undefined): string {
  const shape = lessonFrontmatterSchema.shape as Record<string, { description?: string }>;
  const description = key ? shape[key]?.description : undefined;
  return description ? `${key}: ${description}` : `allowed keys: ${FRONTMATTER_KEYS.join(', ')}`;
}

function fail(file: string, line: number, message: string): FrontmatterResult {
  return { ok: false, errors: [{ file, line, message }] };
}
