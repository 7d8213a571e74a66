// One problem in a lesson, located at its file and line, formatted the way compilers do so that
// editors and terminals make the location clickable.

export type LessonError = {
  /** The lesson file, relative to the project root (e.g. `lessons/01-intro.mdx`). */
  file: string;
  /** 1-based line in that file. */
  line: number;
  /** What is wrong and, where it applies, what is allowed. */
  message: string;
};

export function formatLessonError(error: LessonError): string {
  return `${error.file}:${error.line}: ${error.message}`;
}

/** Thrown to fail the build; its message lists every problem found, one per line. */
export class LessonBuildError extends Error {
  readonly problems: readonly LessonError[];
  constructor(errors: readonly LessonError[]) {
    const count = errors.length === 1 ? '1 problem' : `${errors.length} problems`;
    super(`The course has ${count}:\n${errors.map(formatLessonError).join('\n')}`);
    this.name = 'LessonBuildError';
    this.problems = errors;
  }
}
