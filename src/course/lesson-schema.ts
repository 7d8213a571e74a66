// The front matter of a lesson. The content collection validates lessons with it, and the course
// loader uses the same schema to report errors with the lesson file and line.

import { z } from 'zod';
import { idSchema, terminalSpecSchema } from '../../runner/protocol.ts';

/** The terminal a lesson opens when its front matter names none. */
export const DEFAULT_TERMINAL = { name: 'shell', title: 'Shell' } as const;

/**
 * A terminal, loose to write: `host` or `{ name: host, title: "Lab host" }`; one shape inside.
 * Without a title, the name is the title.
 */
const terminalInputSchema = z
  .union([idSchema, z.strictObject({ name: idSchema, title: terminalSpecSchema.shape.title.optional() })])
  .transform((value) => (typeof value === 'string' ? { name: value, title: value } : { name: value.name, title: value.title ?? value.name }))
  .describe('A terminal the lesson opens: a name such as `host`, or `{ name, title }`.');

export const lessonFrontmatterSchema = z.strictObject({
  title: z.string().min(1).max(200).describe('The lesson title, shown in the course home and at the top of the lesson.'),
  order: z.number().int().min(0).describe('Position of the lesson in the course; lessons are listed by increasing order.'),
  summary: z.string().min(1).max(500).describe('One or two sentences shown under the title on the course home.'),
  minutes: z.number().int().min(1).max(600).describe('Estimated time to complete the lesson, in minutes.'),
  terminals: z
    .array(terminalInputSchema)
    .min(1)
    .default([{ ...DEFAULT_TERMINAL }])
    .superRefine((terminals, ctx) => {
      const seen = new Set<string>();
      for (const [index, terminal] of terminals.entries()) {
        if (seen.has(terminal.name)) {
          ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `terminal "${terminal.name}" is listed twice` });
        }
        seen.add(terminal.name);
      }
    })
    .describe('The terminals the lesson opens, in tab order; the first is where blocks run by default. Default: one terminal named `shell`.'),
  topology: z
    .boolean()
    .default(false)
    .describe('Show the live topology of the learner\'s lab (devices, links, BGP sessions, recoloured as they change) above the terminals. Needs a target that can observe a lab (the lab target). Default: false.'),
});

/** Front matter as written by an author. */
export type LessonFrontmatterInput = z.input<typeof lessonFrontmatterSchema>;
/** Front matter after validation: terminals normalised to `{ name, title }`. */
export type LessonFrontmatter = z.infer<typeof lessonFrontmatterSchema>;

/** Keys the front matter accepts, for error messages. */
export const FRONTMATTER_KEYS = Object.keys(lessonFrontmatterSchema.shape);
