// The course manifest (written by the site build, see protocol.ts): loaded once, validated, every
// expected-output pattern compiled, and indexed for the runner's lookups.

import { readFile } from 'node:fs/promises';
import { courseManifestSchema, type Block, type CourseManifest, type LessonManifest, type Step } from './protocol.ts';
import { compilePattern, type CompiledPattern } from './matcher.ts';

export type IndexedBlock = { block: Block; step: Step; lesson: LessonManifest; pattern: CompiledPattern | null };

export type Course = {
  manifest: CourseManifest;
  lessons: Map<string, LessonManifest>;
  blocks: Map<string, IndexedBlock>;
  steps: Map<string, { step: Step; lesson: LessonManifest }>;
};

export class ManifestError extends Error {
  override name = 'ManifestError';
  /** One line per problem, `file:line: message` where the source is known. */
  readonly problems: readonly string[];
  constructor(message: string, problems: readonly string[] = []) {
    super(message);
    this.problems = problems;
  }
}

/** Validates a parsed manifest; every problem found, each as `file:line: message` where known. */
export function indexCourse(json: unknown, where: string): { ok: true; course: Course } | { ok: false; problems: string[] } {
  const parsed = courseManifestSchema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => `${where}: ${issue.path.length ? issue.path.join('.') : '(manifest)'}: ${issue.message}`),
    };
  }
  const manifest = parsed.data;
  const problems: string[] = [];
  const course: Course = { manifest, lessons: new Map(), blocks: new Map(), steps: new Map() };
  for (const lesson of manifest.lessons) {
    if (course.lessons.has(lesson.id)) problems.push(`${where}: lesson id "${lesson.id}" appears twice`);
    course.lessons.set(lesson.id, lesson);
    const terminals = lesson.terminals.map((t) => t.name);
    for (const step of lesson.steps) {
      if (course.steps.has(step.id)) problems.push(`${where}: step id "${step.id}" appears twice`);
      if (!step.id.startsWith(`${lesson.id}/`)) problems.push(`${where}: step id "${step.id}" is not inside lesson "${lesson.id}"`);
      course.steps.set(step.id, { step, lesson });
      for (const block of step.blocks) {
        const at = `${block.source.file}:${block.source.line}`;
        if (course.blocks.has(block.id)) problems.push(`${at}: block id "${block.id}" appears twice`);
        if (!terminals.includes(block.terminal)) {
          problems.push(`${at}: unknown terminal "${block.terminal}"; this lesson opens: ${terminals.join(', ')}`);
        }
        let pattern: CompiledPattern | null = null;
        if (block.expect !== undefined) {
          const compiled = compilePattern(block.expect);
          if (compiled.ok) pattern = compiled.pattern;
          // The pattern starts on the line after the block's opening fence line at the earliest;
          // the manifest gives the block's line, so report it with the line within the pattern.
          else problems.push(`${at}: expected output, line ${compiled.line}: ${compiled.message}`);
        }
        course.blocks.set(block.id, { block, step, lesson, pattern });
      }
      for (const check of step.checks) {
        if (!terminals.includes(check.terminal)) {
          problems.push(`${check.source.file}:${check.source.line}: unknown terminal "${check.terminal}" in a state check; this lesson opens: ${terminals.join(', ')}`);
        }
      }
    }
  }
  return problems.length ? { ok: false, problems } : { ok: true, course };
}

/** Reads and validates a manifest file; throws a ManifestError naming the file and every problem. */
export async function loadCourse(file: string): Promise<Course> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ManifestError(`Cannot read the course manifest ${file}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ManifestError(`The course manifest ${file} is not JSON: ${(error as Error).message}`);
  }
  const result = indexCourse(json, file);
  if (!result.ok) {
    throw new ManifestError(`The course manifest ${file} is invalid:\n  ${result.problems.join('\n  ')}`, result.problems);
  }
  return result.course;
}
