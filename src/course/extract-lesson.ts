// Turns a lesson's Markdown tree into its steps, blocks and state checks, or into errors that say
// what is wrong, where, and what is allowed. Pure: no file system, no Markdown processor; the
// remark plugin (rendering) and the course loader (manifest) both call it on the same tree shape.
//
// Rules, in the words the README uses:
// - A fenced block is runnable when its info string has `run` (see block-meta.ts); a ```text expect
//   block right after it is its expected output.
// - `<Step id="..." title="...">` groups the blocks and `<StateCheck>`s of one step; steps do not nest.
//   `lasting="no"`: what the step does to the lab does not outlast its lesson (it only looks, or a
//   later step of the lesson undoes it), so catching up to a later lesson skips it.
// - A run block outside any Step is a step of its own, titled after the heading above it and
//   identified as `block-N` (N counts such blocks from 1), so it is checked and counts for progress
//   like any other step.
// - A `<StateCheck>` belongs to the Step it is in; outside a Step it is an error.

import { idSchema, type Block, type StateCheck, type Step } from '../../runner/protocol.ts';
import { parseBlockMeta, type RunMeta } from './block-meta.ts';
import { checkExpectPattern } from './expect-pattern.ts';
import type { LessonError } from './lesson-error.ts';

/** The part of an mdast/MDX node this module reads; satteri's nodes and plain trees both fit. */
export type MdNode = {
  readonly type: string;
  readonly children?: readonly MdNode[];
  readonly position?: { readonly start: { readonly line: number } } | undefined;
  readonly value?: unknown;
  readonly lang?: string | null;
  readonly meta?: string | null;
  readonly name?: string | null;
  readonly attributes?: readonly MdAttribute[];
};
export type MdAttribute = { readonly type: string; readonly name?: string; readonly value?: unknown };

export const STEP_ATTRIBUTES = ['id', 'title', 'lasting'] as const;
export const STATE_CHECK_ATTRIBUTES = ['command', 'description', 'timeout', 'interval', 'terminal'] as const;
/** Prefix of the id of a step made by a run block outside any Step. */
export const IMPLICIT_STEP_PREFIX = 'block-';

/** Waiting for the lab to converge (BGP takes seconds) fits in this unless the author says more. */
export const DEFAULT_CHECK_TIMEOUT_MS = 10_000;
/** Often enough to notice convergence quickly, rarely enough not to load the lab. */
export const DEFAULT_CHECK_INTERVAL_MS = 500;

export type ExtractInput = {
  root: MdNode;
  /** The lesson id (its file name without `.mdx`). */
  lessonId: string;
  /** The lesson file relative to the project root, for errors. */
  file: string;
  /** The terminals the front matter opens; the first is the default. */
  terminals: readonly string[];
};

export type BlockSite = { block: Block; code: MdNode; expect?: MdNode; step: string; implicitStep: boolean };
export type StepSite = { step: Step; node: MdNode; number: number };
export type CheckSite = { check: StateCheck; node: MdNode; step: string; index: number };

export type ExtractedLesson = {
  steps: Step[];
  /** Where each thing came from in the tree, so the plugin can rewrite those nodes. */
  blockSites: BlockSite[];
  stepSites: StepSite[];
  checkSites: CheckSite[];
  errors: LessonError[];
};

export function extractLesson(input: ExtractInput): ExtractedLesson {
  const { lessonId, file, terminals } = input;
  const out: ExtractedLesson = { steps: [], blockSites: [], stepSites: [], checkSites: [], errors: [] };
  const error = (node: MdNode | undefined, message: string) => out.errors.push({ file, line: lineOf(node), message });
  const terminalList = terminals.join(', ');
  const defaultTerminal = terminals[0] ?? 'shell';
  const stepIds = new Map<string, number>();
  let implicitCount = 0;
  let lastHeading: string | undefined;
  let current: { step: Step; node: MdNode } | undefined;

  if (!idSchema.safeParse(lessonId).success) {
    error(undefined, `lesson file name "${lessonId}.mdx" cannot be a lesson id; allowed: lower-case letters, digits, ".", "_" and "-", starting with a letter or digit`);
  }

  const addBlock = (code: MdNode, meta: RunMeta, expect: MdNode | undefined) => {
    const terminal = meta.terminal ?? defaultTerminal;
    if (!terminals.includes(terminal)) {
      error(code, `unknown terminal "${terminal}"; this lesson opens: ${terminalList}`);
    }
    const text = typeof code.value === 'string' ? code.value : '';
    if (text.trim() === '') error(code, 'a run block has no code; allowed: one or more lines to type');
    let step = current?.step;
    let implicitStep = false;
    if (!step) {
      implicitCount += 1;
      const id = `${IMPLICIT_STEP_PREFIX}${implicitCount}`;
      step = { id: `${lessonId}/${id}`, title: lastHeading ?? `Run block ${implicitCount}`, blocks: [], checks: [] };
      registerStepId(id, code);
      out.steps.push(step);
      implicitStep = true;
    }
    let pattern: string | undefined;
    if (expect) {
      pattern = typeof expect.value === 'string' ? expect.value : '';
      for (const problem of checkExpectPattern(pattern)) {
        // The pattern's first line is the line after the opening fence.
        out.errors.push({ file, line: lineOf(expect) + 1 + problem.lineOffset, message: problem.message });
      }
    }
    const block: Block = {
      id: `${step.id}/${step.blocks.length + 1}`,
      terminal,
      code: text.endsWith('\n') ? text : `${text}\n`,
      interrupt: meta.interrupt,
      ...(pattern !== undefined ? { expect: pattern } : {}),
      ...(meta.exitCode !== undefined ? { exitCode: meta.exitCode } : {}),
      source: { file, line: lineOf(code) },
    };
    step.blocks.push(block);
    out.blockSites.push({ block, code, ...(expect ? { expect } : {}), step: step.id, implicitStep });
  };

  const registerStepId = (id: string, node: MdNode) => {
    const previous = stepIds.get(id);
    if (previous !== undefined) {
      error(node, `duplicate step id "${id}" (first used on line ${previous}); allowed: an id used once per lesson${id.startsWith(IMPLICIT_STEP_PREFIX) ? ` (ids "${IMPLICIT_STEP_PREFIX}N" are taken by run blocks outside a Step)` : ''}`);
    } else {
      stepIds.set(id, lineOf(node));
    }
  };

  const visitStep = (node: MdNode) => {
    if (current) {
      error(node, `a <Step> cannot be inside another <Step> (the one opened on line ${lineOf(current.node)}); allowed: Steps one after another`);
      visitChildren(node);
      return;
    }
    const attributes = readAttributes(node, STEP_ATTRIBUTES, '<Step>', error);
    const id = attributes.get('id');
    const title = attributes.get('title');
    if (id === undefined) error(node, '<Step> needs an id, as in <Step id="create-file" title="...">; allowed attributes: id, title, lasting');
    else if (!idSchema.safeParse(id).success) {
      error(node, `<Step> id "${id}" is not allowed; allowed: lower-case letters, digits, ".", "_" and "-", starting with a letter or digit`);
    }
    if (title === undefined || title.trim() === '') error(node, '<Step> needs a title, as in <Step id="..." title="Create the file">; allowed attributes: id, title, lasting');
    const lasting = attributes.get('lasting');
    if (lasting !== undefined && lasting !== 'yes' && lasting !== 'no') {
      error(node, `<Step> lasting="${lasting}" is not allowed; allowed: "no" (what the step does to the lab does not outlast its lesson, so catching up to a later lesson skips it) or "yes" (the default)`);
    }
    const localId = id ?? `unnamed-${out.stepSites.length + 1}`;
    if (id !== undefined) registerStepId(id, node);
    const step: Step = { id: `${lessonId}/${localId}`, title: title ?? localId, blocks: [], checks: [], ...(lasting === 'no' ? { lasting: false } : {}) };
    out.steps.push(step);
    out.stepSites.push({ step, node, number: out.steps.length });
    current = { step, node };
    visitChildren(node);
    current = undefined;
    if (step.blocks.length === 0 && step.checks.length === 0) {
      error(node, `<Step> "${localId}" has nothing to check; allowed: at least one run block or <StateCheck> inside a Step`);
    }
  };

  const visitStateCheck = (node: MdNode) => {
    const attributes = readAttributes(node, STATE_CHECK_ATTRIBUTES, '<StateCheck>', error);
    if (!current) {
      error(node, '<StateCheck> must be inside a <Step>; allowed: <Step id="..." title="..."> ... <StateCheck command="..." /> </Step>');
      return;
    }
    const command = attributes.get('command');
    if (command === undefined || command.trim() === '') {
      error(node, '<StateCheck> needs a command, as in <StateCheck command="test -f /tmp/done" />; allowed attributes: ' + STATE_CHECK_ATTRIBUTES.join(', '));
    }
    const terminal = attributes.get('terminal') ?? defaultTerminal;
    if (!terminals.includes(terminal)) error(node, `unknown terminal "${terminal}" in <StateCheck>; this lesson opens: ${terminalList}`);
    const timeoutMs = readDuration(attributes.get('timeout'), DEFAULT_CHECK_TIMEOUT_MS, 'timeout', 100, 300_000, (message) => error(node, message));
    const intervalMs = readDuration(attributes.get('interval'), DEFAULT_CHECK_INTERVAL_MS, 'interval', 50, 60_000, (message) => error(node, message));
    const description = attributes.get('description') ?? `\`${command ?? ''}\` succeeds`;
    const check: StateCheck = { command: command ?? '', terminal, timeoutMs, intervalMs, description, source: { file, line: lineOf(node) } };
    out.checkSites.push({ check, node, step: current.step.id, index: current.step.checks.length });
    current.step.checks.push(check);
  };

  const visitChildren = (parent: MdNode) => {
    const children = parent.children ?? [];
    for (let index = 0; index < children.length; index += 1) {
      const node = children[index]!;
      if (node.type === 'heading') {
        lastHeading = textOf(node).trim() || lastHeading;
      } else if (node.type === 'code') {
        const meta = parseBlockMeta(node.meta);
        if (!meta.ok) {
          error(node, meta.message);
          continue;
        }
        if (meta.value.kind === 'run') {
          const next = children[index + 1];
          const nextMeta = next?.type === 'code' ? parseBlockMeta(next.meta) : undefined;
          const expect = nextMeta?.ok && nextMeta.value.kind === 'expect' ? next : undefined;
          addBlock(node, meta.value, expect);
          if (expect) index += 1;
        } else if (meta.value.kind === 'expect') {
          error(node, 'an expect block must come right after a run block; allowed: ```sh run followed by ```text expect');
        }
      } else if (node.type === 'mdxJsxFlowElement' || node.type === 'mdxJsxTextElement') {
        if (node.name === 'Step') visitStep(node);
        else if (node.name === 'StateCheck') visitStateCheck(node);
        else visitChildren(node);
      } else if (node.children) {
        visitChildren(node);
      }
    }
  };

  visitChildren(input.root);
  if (out.steps.length === 0) {
    // Not an error: an introduction needs no lab. Said here so nobody adds a check for it.
  }
  return out;
}

function lineOf(node: MdNode | undefined): number {
  return node?.position?.start.line ?? 1;
}

function textOf(node: MdNode): string {
  if (node.type === 'text' || node.type === 'inlineCode') return typeof node.value === 'string' ? node.value : '';
  return (node.children ?? []).map(textOf).join('');
}

/** Reads string-literal attributes; anything else (an expression, a spread, an unknown name) is an error. */
function readAttributes(
  node: MdNode,
  allowed: readonly string[],
  what: string,
  error: (node: MdNode, message: string) => void,
): Map<string, string> {
  const values = new Map<string, string>();
  for (const attribute of node.attributes ?? []) {
    if (attribute.type !== 'mdxJsxAttribute' || typeof attribute.name !== 'string') {
      error(node, `${what} takes only named attributes with string values, not a spread; allowed: ${allowed.join(', ')}`);
      continue;
    }
    if (!allowed.includes(attribute.name)) {
      error(node, `unknown ${what} attribute "${attribute.name}"; allowed: ${allowed.join(', ')}`);
      continue;
    }
    if (typeof attribute.value !== 'string') {
      error(node, `${what} attribute "${attribute.name}" must be a quoted string, as in ${attribute.name}="..."; allowed: ${allowed.join(', ')}`);
      continue;
    }
    values.set(attribute.name, attribute.value);
  }
  return values;
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;

function readDuration(text: string | undefined, fallback: number, name: string, min: number, max: number, error: (message: string) => void): number {
  if (text === undefined) return fallback;
  const match = DURATION.exec(text.trim());
  const ms = match ? Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]) : NaN;
  if (!Number.isFinite(ms) || ms < min || ms > max) {
    error(`<StateCheck> ${name}="${text}" is not allowed; allowed: a duration from ${min}ms to ${max / 1000}s, as in "500ms", "20s" or "2m"`);
    return fallback;
  }
  return ms;
}
