// Output helpers shared by kubectl and calicoctl: Go's text/tabwriter as each tool configures it,
// Kubernetes' human durations (AGE), and YAML/JSON the way Go's encoders write them.

import { stringify } from 'yaml';

export interface TabwriterOptions {
  /** Minimal cell width, padding included. */
  minWidth: number;
  /** Spaces added to the widest text of a column. */
  padding: number;
  /** Every cell tab-terminated (calicoctl's templates), so the last column is padded too. */
  padLastColumn: boolean;
}

/** kubectl's printers: tabwriter.NewWriter(out, 6, 4, 3, ' ', 0), rows without a trailing tab. */
export const KUBECTL_TABLE: TabwriterOptions = { minWidth: 6, padding: 3, padLastColumn: false };
/** calicoctl's printer: tabwriter.NewWriter(out, 5, 1, 3, ' ', 0), every cell ends with a tab. */
export const CALICOCTL_TABLE: TabwriterOptions = { minWidth: 5, padding: 3, padLastColumn: true };

/** Lays out rows (the first is the header) as Go's tabwriter does with these options. */
export function table(rows: readonly (readonly string[])[], options: TabwriterOptions): string {
  const columns = Math.max(0, ...rows.map((r) => r.length));
  const widths: number[] = [];
  for (let c = 0; c < columns; c++) {
    const text = Math.max(0, ...rows.map((r) => [...(r[c] ?? '')].length));
    widths.push(Math.max(options.minWidth, text + options.padding));
  }
  return rows
    .map((row) =>
      row
        .map((cell, c) => (c === row.length - 1 && !options.padLastColumn ? cell : cell + ' '.repeat(widths[c]! - [...cell].length)))
        .join(''),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** apimachinery's duration.HumanDuration, as kubectl's AGE column shows it. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) return `${Math.floor(hours / 24 / 365)}y${Math.floor(hours / 24) % 365}d`;
  return `${Math.floor(hours / 24 / 365)}y`;
}

export function age(creationTimestamp: string | null | undefined, now: number): string {
  if (!creationTimestamp) return '<unknown>';
  return humanDuration(now - Date.parse(creationTimestamp));
}

/** Sorts object keys recursively, as Go's encoders do for maps (and Kubernetes' YAML for structs). */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  }
  return value;
}

/** YAML as sigs.k8s.io/yaml writes it: sorted keys, unindented sequences, YAML 1.1 quoting. */
export function toYaml(value: unknown): string {
  return stringify(sortKeys(value), { indentSeq: false, version: '1.1', lineWidth: 0 });
}

/** JSON as kubectl writes it (four-space indent) or calicoctl (two). */
export function toJson(value: unknown, indent: 2 | 4): string {
  return `${JSON.stringify(sortKeys(value), null, indent)}\n`;
}

/**
 * The table calicoctl node status draws (olekukonko/tablewriter defaults): `+---+` borders,
 * upper-case headers centred, cells left-aligned with one space of padding.
 */
export function boxTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const border = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+\n`;
  const centre = (text: string, width: number) => {
    const total = width - text.length;
    const left = Math.floor(total / 2);
    return ' '.repeat(left) + text + ' '.repeat(total - left);
  };
  const header = `|${headers.map((h, c) => ` ${centre(h.toUpperCase(), widths[c]!)} `).join('|')}|\n`;
  const body = rows.map((r) => `|${widths.map((w, c) => ` ${(r[c] ?? '').padEnd(w)} `).join('|')}|\n`).join('');
  return border + header + border + body + border;
}

/** What the yaml library calls an error, reduced to what goYamlError needs. */
export interface YamlError {
  code: string;
  pos: [number, number];
  linePos?: [{ line: number; col: number }, ...{ line: number; col: number }[]];
  message: string;
}

/**
 * The message Go's YAML parser (which kubectl and calicoctl use) gives for the common mistakes,
 * `yaml: line N: ...`, from the yaml library's error on `text`.
 */
export function goYamlError(error: YamlError, text: string): string {
  const lineAt = (offset: number) => text.slice(0, offset).split('\n').length;
  let line = error.linePos?.[0]?.line ?? lineAt(error.pos[0]);
  let message: string;
  switch (error.code) {
    case 'BLOCK_AS_IMPLICIT_KEY':
    case 'BAD_INDENT': {
      // Go reports the line of the colon that cannot start a mapping there.
      const colon = /:(?=\s|$)/m.exec(text.slice(error.pos[0]));
      if (colon) line = lineAt(error.pos[0] + colon.index);
      message = 'mapping values are not allowed in this context';
      break;
    }
    case 'TAB_AS_INDENT':
      message = 'found character that cannot start any token';
      break;
    case 'MISSING_CHAR':
      message = 'found unexpected end of stream';
      break;
    default:
      message = "did not find expected key";
  }
  return `yaml: line ${line}: ${message}`;
}
