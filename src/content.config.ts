// Lessons are a content collection: one MDX file per lesson in COURSE_DIR (default `lessons/`),
// its front matter validated by the lesson schema. Ids are file names, as in the course manifest.

import { defineCollection } from 'astro:content';
import { glob } from 'astro/loaders';
import { lessonIdOf } from './course/lesson-file.ts';
import { lessonFrontmatterSchema } from './course/lesson-schema.ts';

const lessons = defineCollection({
  loader: glob({
    pattern: '*.mdx',
    base: process.env.COURSE_DIR || 'lessons',
    generateId: ({ entry }) => lessonIdOf(entry),
  }),
  schema: lessonFrontmatterSchema,
});

export const collections = { lessons };
