// The Markdown plugin behind runnable blocks. Astro 7 compiles MDX with Sätteri, whose mdast plugins
// are its remark plugins (same tree shapes); this is one. For each lesson it validates the front
// matter, the fence options and the Step/StateCheck components (failing the build with file:line on
// any error), then rewrites the tree:
//
// - a ```sh run block (and the ```text expect block after it) becomes <RunBlock ...> wrapping the
//   same code nodes, so Shiki still highlights them like any other block;
// - <Step> gets its qualified id and number, <StateCheck> its resolved settings, for the page.

import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MdastPluginDefinition, MdastVisitorContext, MdxJsxFlowElement } from 'satteri';
import { extractLesson, type MdNode } from '../course/extract-lesson.ts';
import { parseLessonFrontmatter } from '../course/frontmatter.ts';
import { LessonBuildError } from '../course/lesson-error.ts';
import { displayPath, isLessonFile, lessonIdOf } from '../course/lesson-file.ts';

export type RunnableBlocksOptions = {
  /** Absolute path of the folder whose `.mdx` files are lessons; other MDX files are left alone. */
  courseDir: string;
  /** Absolute path of the project root, to print lesson paths relative to it. */
  projectRoot: string;
};

/** Component names the plugin emits; the lesson page provides them. */
export const RUN_BLOCK_COMPONENT = 'RunBlock';

export function runnableBlocks(options: RunnableBlocksOptions): MdastPluginDefinition {
  return {
    name: 'course-runnable-blocks',
    options: { position: true },
    before(root, ctx) {
      if (!ctx.fileURL) return;
      const filePath = fileURLToPath(ctx.fileURL);
      if (!isLessonFile(filePath, options.courseDir)) return;
      const file = displayPath(filePath, options.projectRoot);
      const frontmatter = parseLessonFrontmatter(fs.readFileSync(filePath, 'utf8'), file);
      if (!frontmatter.ok) throw new LessonBuildError(frontmatter.errors);
      const terminals = frontmatter.value.terminals;
      const lesson = extractLesson({ root: root as unknown as MdNode, lessonId: lessonIdOf(filePath), file, terminals: terminals.map((t) => t.name) });
      if (lesson.errors.length > 0) throw new LessonBuildError(lesson.errors);

      const titleOf = (name: string) => terminals.find((terminal) => terminal.name === name)?.title ?? name;
      const stepNumber = new Map(lesson.steps.map((step, index) => [step.id, index + 1]));

      for (const site of lesson.blockSites) {
        const step = lesson.steps.find((candidate) => candidate.id === site.step);
        const children: MdxJsxFlowElement['children'] = [codeCopy(site.code)];
        if (site.expect) {
          children.push(element('div', { slot: 'expect' }, [codeCopy(site.expect)]));
          ctx.removeNode(site.expect as never);
        }
        const attributes: Record<string, string> = {
          block: site.block.id,
          terminal: site.block.terminal,
          terminalTitle: titleOf(site.block.terminal),
          step: site.step,
          stepNumber: String(stepNumber.get(site.step) ?? 0),
        };
        if (site.implicitStep && step) attributes.stepTitle = step.title;
        if (site.block.exitCode !== undefined) attributes.exitCode = String(site.block.exitCode);
        if (site.block.interrupt) attributes.interrupt = 'true';
        if (site.expect) attributes.hasExpect = 'true';
        ctx.replaceNode(site.code as never, element(RUN_BLOCK_COMPONENT, attributes, children));
      }
      for (const site of lesson.stepSites) {
        setAttributes(ctx, site.node, { id: site.step.id, title: site.step.title, number: String(site.number) });
      }
      for (const site of lesson.checkSites) {
        setAttributes(ctx, site.node, {
          step: site.step,
          index: String(site.index),
          command: site.check.command,
          description: site.check.description,
          terminal: site.check.terminal,
          timeoutMs: String(site.check.timeoutMs),
        });
      }
    },
  };
}

function codeCopy(node: MdNode) {
  return { type: 'code' as const, lang: node.lang ?? null, meta: null, value: typeof node.value === 'string' ? node.value : '' };
}

function element(name: string, attributes: Record<string, string>, children: MdxJsxFlowElement['children']): MdxJsxFlowElement {
  return {
    type: 'mdxJsxFlowElement',
    name,
    attributes: Object.entries(attributes).map(([key, value]) => ({ type: 'mdxJsxAttribute' as const, name: key, value })),
    children,
  } as MdxJsxFlowElement;
}

/** Sätteri cannot set a JSX element's attributes in place, so the element is replaced by one with
 *  the same name and children (rewrites queued for those children still apply). */
function setAttributes(ctx: MdastVisitorContext, node: MdNode, attributes: Record<string, string>) {
  const children = (node.children ?? []) as unknown as MdxJsxFlowElement['children'];
  ctx.replaceNode(node as never, element(node.name ?? '', attributes, [...children]));
}
