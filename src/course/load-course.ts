// Reads every lesson of a course from disk into the course manifest the runner loads, collecting
// every error in every lesson rather than stopping at the first.

import fs from 'node:fs';
import path from 'node:path';
import { mdxToMdast } from 'satteri';
import { courseManifestSchema, type CourseManifest, type LessonManifest } from '../../runner/protocol.ts';
import { extractLesson, type MdNode } from './extract-lesson.ts';
import { parseLessonFrontmatter } from './frontmatter.ts';
import type { LessonError } from './lesson-error.ts';
import { displayPath, LESSON_EXTENSION, lessonIdOf } from './lesson-file.ts';
import type { LessonFrontmatter } from './lesson-schema.ts';

export type LoadedLesson = { id: string; file: string; frontmatter: LessonFrontmatter; manifest: LessonManifest };
export type LoadedCourse = { lessons: LoadedLesson[]; manifest: CourseManifest; errors: LessonError[] };

export function loadCourse(options: { courseDir: string; projectRoot: string }): LoadedCourse {
  const errors: LessonError[] = [];
  const lessons: LoadedLesson[] = [];
  const courseDir = path.resolve(options.projectRoot, options.courseDir);
  const names = fs.existsSync(courseDir) ? fs.readdirSync(courseDir).filter((name) => name.endsWith(LESSON_EXTENSION)).sort() : [];

  for (const name of names) {
    const filePath = path.join(courseDir, name);
    const file = displayPath(filePath, options.projectRoot);
    const source = fs.readFileSync(filePath, 'utf8');
    const frontmatter = parseLessonFrontmatter(source, file);
    if (!frontmatter.ok) {
      errors.push(...frontmatter.errors);
      continue;
    }
    let root: MdNode;
    try {
      root = mdxToMdast(source, { position: true, features: { frontmatter: true, gfm: true } }) as unknown as MdNode;
    } catch (error) {
      const line = Number(/(\d+):\d+/.exec((error as Error).message)?.[1] ?? 1);
      errors.push({ file, line, message: `not valid MDX: ${(error as Error).message}` });
      continue;
    }
    const id = lessonIdOf(filePath);
    const { terminals } = frontmatter.value;
    const extracted = extractLesson({ root, lessonId: id, file, terminals: terminals.map((terminal) => terminal.name) });
    errors.push(...extracted.errors);
    lessons.push({
      id,
      file,
      frontmatter: frontmatter.value,
      manifest: { id, title: frontmatter.value.title, order: frontmatter.value.order, terminals, steps: extracted.steps },
    });
  }

  const byOrder = new Map<number, LoadedLesson>();
  for (const lesson of lessons) {
    const other = byOrder.get(lesson.frontmatter.order);
    if (other) {
      errors.push({ file: lesson.file, line: 1, message: `front matter: order ${lesson.frontmatter.order} is already used by ${other.file}; allowed: a different order per lesson` });
    }
    byOrder.set(lesson.frontmatter.order, lesson);
  }
  lessons.sort((a, b) => a.frontmatter.order - b.frontmatter.order || a.id.localeCompare(b.id));

  const candidate = { version: 1 as const, lessons: lessons.map((lesson) => lesson.manifest) };
  const checked = courseManifestSchema.safeParse(candidate);
  if (!checked.success && errors.length === 0) {
    // Extraction keeps every field in range, so this means the two disagree: a programmer mistake.
    throw new Error(`course manifest does not match the protocol schema: ${checked.error.message}`);
  }
  return { lessons, manifest: checked.success ? checked.data : candidate, errors };
}
