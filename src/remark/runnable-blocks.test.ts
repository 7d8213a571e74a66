import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { mdxToJs, type MdxToJsResult } from 'satteri';
import { runnableBlocks } from './runnable-blocks.ts';

let projectRoot: string;
let courseDir: string;

before(() => {
  projectRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'runnable-blocks-'));
  courseDir = path.join(projectRoot, 'lessons');
  fs.mkdirSync(courseDir);
});
after(() => fs.rmSync(projectRoot, { recursive: true, force: true }));

const FENCE = '```';
const FRONT = `---
title: Test lesson
order: 1
summary: A lesson for the tests.
minutes: 2
terminals: [host, k8s-master]
---
`;

/** Compiles a lesson the way the site does; returns the JS or throws the build error. */
function compile(name: string, source: string, dir = courseDir): string {
  const file = path.join(dir, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(file, source);
  // Astro hands the processor the body with the front matter blanked, keeping line numbers.
  const body = source.replace(/^---\n[\s\S]*?\n---\n/, (front) => front.replace(/[^\n]/g, ''));
  // The plugin is synchronous, so the compile is too.
  const result = mdxToJs(body, { mdastPlugins: [runnableBlocks({ courseDir, projectRoot })], fileURL: pathToFileURL(file) }) as MdxToJsResult;
  return result.code;
}

function buildError(name: string, source: string): string {
  try {
    compile(name, source);
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail(`${name} compiled, but it should fail the build`);
}

describe('runnable blocks', () => {
  test('a run block in a Step becomes a RunBlock with its qualified id, terminal and expected output', () => {
    const code = compile(
      'basics.mdx',
      `${FRONT}
<Step id="greet" title="Greet">

${FENCE}sh run terminal=k8s-master exit=0
echo hi
${FENCE}

${FENCE}text expect
hi
${FENCE}

<StateCheck command="test -f done" timeout="20s" description="the file exists" />

</Step>
`,
    );
    assert.match(code, /_jsxs?\(Step, \{\s*id: "basics\/greet",\s*title: "Greet",\s*number: "1"/);
    assert.match(code, /_jsxs?\(RunBlock, \{\s*block: "basics\/greet\/1",\s*terminal: "k8s-master",\s*terminalTitle: "k8s-master",\s*step: "basics\/greet"/);
    assert.match(code, /exitCode: "0"/);
    assert.match(code, /hasExpect: "true"/);
    assert.match(code, /slot: "expect"/);
    // The expected output appears once, inside the RunBlock, not again after it.
    assert.equal(code.match(/children: "hi\\n"/g)?.length, 1);
    assert.match(
      code,
      /_jsx\(StateCheck, \{\s*step: "basics\/greet",\s*index: "0",\s*command: "test -f done",\s*description: "the file exists",\s*terminal: "host",\s*timeoutMs: "20000"/,
    );
  });

  test('a heredoc block keeps its lines exactly, braces included', () => {
    const code = compile('heredoc.mdx', `${FRONT}
${FENCE}sh run
cat <<EOT
{"a": 1}
EOT
${FENCE}
`);
    assert.match(code, /children: "cat <<EOT\\n\{\\"a\\": 1\}\\nEOT\\n"/);
  });

  test('a run block outside any Step is a step of its own, titled after the heading above it', () => {
    const code = compile('free.mdx', `${FRONT}
## Look around

${FENCE}sh run
ls
${FENCE}
`);
    assert.match(code, /block: "free\/block-1\/1"/);
    assert.match(code, /stepTitle: "Look around"/);
  });

  test('an ordinary code block is left alone', () => {
    const code = compile('plain.mdx', `${FRONT}
${FENCE}sh title="x"
ls
${FENCE}
`);
    assert.doesNotMatch(code, /RunBlock/);
  });

  test('MDX outside the course folder is not a lesson and is not checked', () => {
    const code = compile('page.mdx', `${FENCE}sh run terminal=nowhere\nls\n${FENCE}\n`, path.join(projectRoot, 'elsewhere'));
    assert.doesNotMatch(code, /RunBlock/);
  });
});

describe('build errors name the file, the line, what is wrong and what is allowed', () => {
  test('unknown block option', () => {
    assert.equal(
      buildError('option.mdx', `${FRONT}
${FENCE}sh run verbose
ls
${FENCE}
`),
      'The course has 1 problem:\nlessons/option.mdx:9: unknown block option "verbose"; allowed: run, terminal=NAME, interrupt, exit=CODE',
    );
  });

  test('a run-only option without run', () => {
    assert.match(
      buildError('stray.mdx', `${FRONT}\n${FENCE}sh terminal=host\nls\n${FENCE}\n`),
      /lessons\/stray\.mdx:9: option "terminal=host" needs "run" in the same info string; allowed: run, terminal=NAME, interrupt, exit=CODE/,
    );
  });

  test('a bad exit code', () => {
    assert.match(
      buildError('exit.mdx', `${FRONT}\n${FENCE}sh run exit=300\nls\n${FENCE}\n`),
      /lessons\/exit\.mdx:9: option "exit" needs an exit code from 0 to 255, got "exit=300"/,
    );
  });

  test('unknown terminal', () => {
    assert.match(
      buildError('terminal.mdx', `${FRONT}\n${FENCE}sh run terminal=leaf3\nls\n${FENCE}\n`),
      /^lessons\/terminal\.mdx:9: unknown terminal "leaf3"; this lesson opens: host, k8s-master$/m,
    );
  });

  test('duplicate step id', () => {
    const message = buildError('dup.mdx', `${FRONT}
<Step id="same" title="One">

${FENCE}sh run
ls
${FENCE}

</Step>

<Step id="same" title="Two">

${FENCE}sh run
pwd
${FENCE}

</Step>
`);
    assert.match(message, /^lessons\/dup\.mdx:17: duplicate step id "same" \(first used on line 9\); allowed: an id used once per lesson$/m);
  });

  test('invalid regular expression in an (re) line, at the line of the pattern', () => {
    const message = buildError('regex.mdx', `${FRONT}
${FENCE}sh run
ls
${FENCE}

${FENCE}text expect
first line
[a-(z (re)
${FENCE}
`);
    assert.match(
      message,
      /^lessons\/regex\.mdx:15: invalid regular expression in an "\(re\)" line: .+; allowed: a JavaScript regular expression for the whole line, followed by " \(re\)"$/m,
    );
  });

  test('an expect block without a run block before it', () => {
    assert.match(
      buildError('orphan.mdx', `${FRONT}\n${FENCE}text expect\nhi\n${FENCE}\n`),
      /lessons\/orphan\.mdx:9: an expect block must come right after a run block/,
    );
  });

  test('a StateCheck outside a Step, and a bad timeout', () => {
    const outside = buildError('outside.mdx', `${FRONT}\n<StateCheck command="true" />\n`);
    assert.match(outside, /lessons\/outside\.mdx:9: <StateCheck> must be inside a <Step>/);
    const timeout = buildError('timeout.mdx', `${FRONT}
<Step id="s" title="S">
<StateCheck command="true" timeout="forever" />
</Step>
`);
    assert.match(
      timeout,
      /lessons\/timeout\.mdx:10: <StateCheck> timeout="forever" is not allowed; allowed: a duration from 100ms to 300s, as in "500ms", "20s" or "2m"/,
    );
  });

  test('an unknown Step attribute, and a Step with nothing to check', () => {
    const message = buildError('step.mdx', `${FRONT}
<Step id="s" title="S" colour="red">

Just text.

</Step>
`);
    assert.match(message, /lessons\/step\.mdx:9: unknown <Step> attribute "colour"; allowed: id, title/);
    assert.match(message, /lessons\/step\.mdx:9: <Step> "s" has nothing to check; allowed: at least one run block or <StateCheck> inside a Step/);
  });

  test('bad front matter: a missing key, a wrong type and an unknown key, each at its line', () => {
    const message = buildError('front.mdx', `---
title: Test lesson
order: first
minutes: 2
colour: blue
---

Text.
`);
    assert.match(message, /^The course has 3 problems:$/m);
    assert.match(message, /^lessons\/front\.mdx:3: front matter: "order": .+; order: Position of the lesson in the course/m);
    assert.match(message, /^lessons\/front\.mdx:1: front matter: "summary" is required; summary: /m);
    assert.match(message, /^lessons\/front\.mdx:5: front matter: unknown key "colour"; allowed: title, order, summary, minutes, terminals, topology$/m);
  });

  test('every problem in a lesson is reported at once', () => {
    const message = buildError('many.mdx', `${FRONT}
${FENCE}sh run nope
ls
${FENCE}

${FENCE}sh run terminal=leaf3
ls
${FENCE}
`);
    assert.match(message, /^The course has 2 problems:/);
  });
});
