// The course site. Lessons come from COURSE_DIR (default `lessons/`), the site goes to COURSE_OUT
// (default `dist/`), so the tests can build the fixture course next to the real one.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'astro/config';
import mdx from '@astrojs/mdx';
import { satteri } from '@astrojs/markdown-satteri';
import { runnableBlocks } from './src/remark/runnable-blocks.ts';
import { courseManifest } from './src/integrations/course-manifest.ts';

// Building the course sends nothing anywhere: Astro's usage telemetry stays off unless asked for.
process.env.ASTRO_TELEMETRY_DISABLED ??= '1';

const projectRoot = fileURLToPath(new URL('.', import.meta.url));
const courseDir = path.resolve(projectRoot, process.env.COURSE_DIR || 'lessons');

export default defineConfig({
  outDir: process.env.COURSE_OUT || 'dist',
  // The runner serves the built files as they are; nothing here needs a server at request time.
  output: 'static',
  devToolbar: { enabled: false },
  markdown: {
    processor: satteri({ mdastPlugins: [runnableBlocks({ courseDir, projectRoot })] }),
    shikiConfig: { theme: 'github-light' },
  },
  integrations: [mdx(), courseManifest({ courseDir })],
  vite: {
    resolve: {
      // Lessons import their components as `@lesson-components/Step.astro`, wherever the course lives.
      alias: { '@lesson-components': path.join(projectRoot, 'src/lesson-components') },
    },
  },
});
