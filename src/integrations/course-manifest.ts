// Astro integration: checks the whole course before anything is built (failing with every
// `file:line: problem` at once) and writes `<outDir>/course-manifest.json` after the build, the
// only source the runner trusts for what a block runs and what its checks expect.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AstroIntegration } from 'astro';
import { LessonBuildError } from '../course/lesson-error.ts';
import { loadCourse } from '../course/load-course.ts';

export const MANIFEST_FILE = 'course-manifest.json';

/** The pages import the manifest from this module instead of parsing lessons themselves. */
export const MANIFEST_MODULE = 'virtual:course-manifest';
const RESOLVED_MANIFEST_MODULE = `\0${MANIFEST_MODULE}`;

export function courseManifest(options: { courseDir: string }): AstroIntegration {
  let projectRoot = process.cwd();
  return {
    name: 'course-manifest',
    hooks: {
      'astro:config:setup': ({ config, updateConfig }) => {
        projectRoot = fileURLToPath(config.root);
        const course = loadCourse({ courseDir: options.courseDir, projectRoot });
        if (course.errors.length > 0) throw new LessonBuildError(course.errors);
        updateConfig({
          vite: {
            plugins: [
              {
                name: 'course-manifest-module',
                resolveId: (id: string) => (id === MANIFEST_MODULE ? RESOLVED_MANIFEST_MODULE : undefined),
                load: (id: string) => (id === RESOLVED_MANIFEST_MODULE ? `export default ${JSON.stringify(course.manifest)};` : undefined),
              },
            ],
          },
        });
      },
      'astro:build:done': ({ dir, logger }) => {
        const course = loadCourse({ courseDir: options.courseDir, projectRoot });
        if (course.errors.length > 0) throw new LessonBuildError(course.errors);
        const target = path.join(fileURLToPath(dir), MANIFEST_FILE);
        fs.writeFileSync(target, `${JSON.stringify(course.manifest, null, 2)}\n`);
        const steps = course.manifest.lessons.reduce((sum, lesson) => sum + lesson.steps.length, 0);
        const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
        logger.info(`${MANIFEST_FILE}: ${count(course.manifest.lessons.length, 'lesson')}, ${count(steps, 'step')} -> ${path.relative(projectRoot, target)}`);
      },
    },
  };
}
