// Naming rules shared by everything that reads lesson files.

import path from 'node:path';

export const LESSON_EXTENSION = '.mdx';

/** A lesson's id is its file name without the extension: `lessons/01-intro.mdx` is `01-intro`. */
export function lessonIdOf(file: string): string {
  return path.basename(file, LESSON_EXTENSION);
}

/** The path printed in errors: relative to the project root, with forward slashes. */
export function displayPath(file: string, projectRoot: string): string {
  return path.relative(projectRoot, file).split(path.sep).join('/');
}

/** True when `file` is a lesson directly inside `courseDir` (lessons are not nested). */
export function isLessonFile(file: string, courseDir: string): boolean {
  return path.dirname(path.resolve(file)) === path.resolve(courseDir) && file.endsWith(LESSON_EXTENSION);
}
