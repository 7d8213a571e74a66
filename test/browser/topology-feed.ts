// The browser tests' stand-in for a lab observer (the runner's --topology-command): prints the
// snapshot in DIR/<learner>.json as one JSON line now and whenever a test rewrites that file, so a
// test scripts what the topology view is shown. The runner starts it per watched learner, with
// COURSE_LEARNER set, and ends it when no page watches.
//   node test/browser/topology-feed.ts DIR

import { mkdirSync, readFileSync, watch } from 'node:fs';
import path from 'node:path';

const [dir] = process.argv.slice(2);
const learner = process.env.COURSE_LEARNER;
if (!dir || !learner) {
  process.stderr.write('usage: COURSE_LEARNER=ID node test/browser/topology-feed.ts DIR\n');
  process.exit(2);
}
mkdirSync(dir, { recursive: true });
const file = path.join(dir, `${learner}.json`);
let last = '';
const emit = () => {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    return; // not written yet: nothing to show, which the page says
  }
  const line = JSON.stringify(JSON.parse(text));
  if (line === last) return;
  last = line;
  process.stdout.write(`${line}\n`);
};
// Tests write the file whole (write to a temporary name, then rename), so every event sees a complete file.
watch(dir, (_event, name) => {
  if (name === `${learner}.json`) emit();
});
emit();
