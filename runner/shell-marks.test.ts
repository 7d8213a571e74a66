import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CommandTracker, normaliseCommand, type FinishedCommand } from './command-tracker.ts';
import { escapeMarkValue, ShellMarkParser, unescapeMarkValue, type ShellEvent } from './shell-marks.ts';

const NONCE = 'f00dfeedcafe1234';

const A = (d = 0, n = NONCE) => `\x1b]133;A;n=${n};d=${d}\x07`;
const B = (d = 0, n = NONCE) => `\x1b]133;B;n=${n};d=${d}\x07`;
const C = (d = 0, n = NONCE) => `\x1b]133;C;n=${n};d=${d};r=1\x07`;
const D = (code: number, d = 0, n = NONCE) => `\x1b]133;D;${code};n=${n};d=${d}\x07`;
const E = (line: string, d = 0, n = NONCE) => `\x1b]633;E;${escapeMarkValue(line)};n=${n};d=${d}\x07`;

/** Output text joined, marks as `<kind:depth>`; adjacent outputs merged so chunking does not show. */
function summarise(events: ShellEvent[]): string[] {
  const out: string[] = [];
  for (const event of events) {
    if (event.kind === 'output') {
      if (out.length && out.at(-1)!.startsWith('"')) out[out.length - 1] = JSON.stringify(JSON.parse(out.at(-1)!) + event.text);
      else out.push(JSON.stringify(event.text));
    } else {
      const m = event.mark;
      const extra = m.kind === 'command-done' ? `=${m.exitCode}` : m.kind === 'command-line' ? `=${m.commandLine}` : '';
      out.push(`<${m.kind}:${m.depth}${extra}>`);
    }
  }
  return out;
}

const session = `${A()}$ ${B()}echo hi\r\n${E('echo hi')}${C()}hi\r\n${D(0)}${A()}$ ${B()}`;
const expected = [
  '<prompt-start:0>',
  '"$ "',
  '<prompt-end:0>',
  '"echo hi\\r\\n"',
  '<command-line:0=echo hi>',
  '<output-start:0>',
  '"hi\\r\\n"',
  '<command-done:0=0>',
  '<prompt-start:0>',
  '"$ "',
  '<prompt-end:0>',
];

describe('ShellMarkParser', () => {
  it('separates marks from output', () => {
    assert.deepEqual(summarise(new ShellMarkParser(NONCE).push(session)), expected);
  });

  it('gives the same events however the output is split into chunks', () => {
    for (let cut = 0; cut <= session.length; cut++) {
      const parser = new ShellMarkParser(NONCE);
      const events = [...parser.push(session.slice(0, cut)), ...parser.push(session.slice(cut))];
      assert.deepEqual(summarise(events), expected, `cut at ${cut}`);
    }
    const parser = new ShellMarkParser(NONCE);
    const oneByOne = [...session].flatMap((ch) => parser.push(ch));
    assert.deepEqual(summarise(oneByOne), expected, 'one character at a time');
  });

  it('holds back only what may still become a mark', () => {
    const parser = new ShellMarkParser(NONCE);
    assert.deepEqual(summarise(parser.push('text\x1b]13')), ['"text"']);
    assert.deepEqual(summarise(parser.push('5;x')), ['"\\u001b]135;x"'], 'not a mark after all: released');
    assert.deepEqual(summarise(parser.push('a\x1b[31mred')), ['"a\\u001b[31mred"'], 'other escapes pass at once');
    assert.deepEqual(summarise(parser.push('\x1b]133;A;n=')), []);
    assert.deepEqual(summarise(parser.flush()), ['"\\u001b]133;A;n="'], 'flush releases a partial mark as output');
  });

  it('ignores forged marks: a wrong nonce, none, or a bad depth stay in the output', () => {
    const forged = [A(0, 'deadbeefdeadbeef'), `\x1b]133;A\x07`, `\x1b]133;D;0\x07`, `\x1b]133;B;n=${NONCE}\x07`, `\x1b]133;A;n=${NONCE};d=x\x07`, E('rm -rf /', 0, 'nope')];
    for (const mark of forged) {
      const events = new ShellMarkParser(NONCE).push(`before${mark}after`);
      assert.deepEqual(summarise(events), [JSON.stringify(`before${mark}after`)], JSON.stringify(mark));
    }
  });

  it('accepts ST as well as BEL to end a mark', () => {
    const events = new ShellMarkParser(NONCE).push(`\x1b]133;D;7;n=${NONCE};d=0\x1b\\rest`);
    assert.deepEqual(summarise(events), ['<command-done:0=7>', '"rest"']);
  });

  it('refuses malformed exit codes and unknown letters', () => {
    for (const body of [`133;D;x;n=${NONCE};d=0`, `133;D;n=${NONCE};d=0`, `133;Z;n=${NONCE};d=0`, `633;X;ls;n=${NONCE};d=0`]) {
      const text = `\x1b]${body}\x07`;
      assert.deepEqual(summarise(new ShellMarkParser(NONCE).push(text)), [JSON.stringify(text)], body);
    }
  });

  it('round-trips escaped command lines with separators, newlines and escapes', () => {
    const line = "cat <<'EOF'\n\ta;b\\c \x1b[0m\x07\nEOF";
    assert.equal(unescapeMarkValue(escapeMarkValue(line)), line);
    const events = new ShellMarkParser(NONCE).push(E(line));
    assert.deepEqual(events, [{ kind: 'mark', mark: { kind: 'command-line', depth: 0, commandLine: line } }]);
  });

  it('unescapes what the bash side writes', () => {
    assert.equal(unescapeMarkValue('a\\x3bb\\\\c\\x0ad'), 'a;b\\c\nd');
  });

  it('refuses a nonce that is too short to be secret', () => {
    assert.throws(() => new ShellMarkParser('abc'), /shell nonce must be at least 8 letters or digits, got "abc"/);
  });
});

function track(text: string): { finished: FinishedCommand[]; prompts: number[]; tracker: CommandTracker } {
  const finished: FinishedCommand[] = [];
  const prompts: number[] = [];
  let t = 0;
  const tracker = new CommandTracker({ onCommandDone: (c) => finished.push(c), onPrompt: (d) => prompts.push(d) }, () => (t += 10));
  tracker.handle(new ShellMarkParser(NONCE).push(text));
  return { finished, prompts, tracker };
}

describe('CommandTracker', () => {
  it('reports each command with its line, output, exit code and duration', () => {
    const { finished, prompts, tracker } = track(`${A()}$ ${B()}false\r\n${E('false')}${C()}oops\r\n${D(1)}${A()}$ ${B()}`);
    assert.equal(finished.length, 1);
    assert.equal(finished[0]!.commandLine, 'false');
    assert.equal(finished[0]!.output, 'oops\r\n');
    assert.equal(finished[0]!.exitCode, 1);
    assert.equal(finished[0]!.durationMs, 10);
    assert.deepEqual(prompts, [0, 0]);
    assert.equal(tracker.atPrompt, true);
  });

  it('reports no command for an empty line', () => {
    const { finished, prompts } = track(`${A()}$ ${B()}\r\n${A()}$ ${B()}`);
    assert.deepEqual(finished, []);
    assert.deepEqual(prompts, [0, 0]);
  });

  it('counts a prompt once though readline redraws it (B again without A)', () => {
    const { prompts, tracker } = track(`${A()}$ ${B()}\r$ ${B()}ls`);
    assert.deepEqual(prompts, [0]);
    assert.equal(tracker.atPrompt, true);
  });

  it('tracks a nested bash: its commands at depth 1, the outer command owning all of it', () => {
    const text =
      `${A()}$ ${B()}${E('bash')}${C()}` +
      `${A(1)}$$ ${B(1)}${E('echo inner', 1)}${C(1)}inner\r\n${D(0, 1)}` +
      `${A(1)}$$ ${B(1)}${E('exit', 1)}${C(1)}exit\r\n` +
      `${D(4)}${A()}$ ${B()}`;
    const { finished, prompts, tracker } = track(text);
    assert.deepEqual(
      finished.map((c) => [c.depth, c.commandLine, c.exitCode]),
      [
        [1, 'echo inner', 0],
        // The nested shell ended while running `exit`: done, with no exit status of its own.
        [1, 'exit', null],
        [0, 'bash', 4],
      ],
    );
    assert.equal(finished[2]!.output, '$$ inner\r\n$$ exit\r\n');
    assert.deepEqual(prompts, [0, 1, 1, 0]);
    assert.equal(tracker.promptDepth, 0);
  });

  it('ends a command whose D mark never came (a Ctrl-C cut the prompt hook short) when the next prompt starts, with no exit status', () => {
    const { finished, prompts } = track(`${A()}$ ${B()}${E('sleep 500')}${C()}^C\r\n${A()}$ ${B()}`);
    assert.deepEqual(finished.map((c) => [c.commandLine, c.exitCode, c.output]), [['sleep 500', null, '^C\r\n']]);
    assert.deepEqual(prompts, [0, 0]);
  });

  it('reports a multi-line paste once, by its last line\'s D: the lines before end silently when the next one starts', () => {
    const { finished } = track(`${A()}$ ${B()}${E('true')}${C()}${E('echo two')}${C()}two\r\n${D(0)}${A()}$ ${B()}`);
    assert.deepEqual(finished.map((c) => [c.commandLine, c.exitCode]), [['echo two', 0]]);
  });

  it('tracks a subshell that reports nothing as part of its command', () => {
    const { finished } = track(`${A()}$ ${B()}${E('( cd /tmp; ls )')}${C()}a\r\nb\r\n${D(0)}${A()}$ ${B()}`);
    assert.deepEqual(finished.map((c) => [c.commandLine, c.output]), [['( cd /tmp; ls )', 'a\r\nb\r\n']]);
  });

  it('normalises whitespace for recognising typed commands', () => {
    assert.equal(normaliseCommand('  echo   a\n\tb  \n'), 'echo a b');
  });
});
