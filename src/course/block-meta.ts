// The options a fenced block takes in its info string, after the language:
//
//   ```sh run                       runnable, in the lesson's first terminal
//   ```sh run terminal=k8s-master   runnable, in the named terminal
//   ```sh run interrupt exit=0      send Ctrl-C first; pass only if it exits 0
//   ```text expect                  the expected output of the run block just above
//
// A block whose info string has neither `run` nor `expect` is an ordinary code block and is left
// alone. Everything else is an error that names what is allowed.

export const RUN_OPTIONS = ['run', 'terminal=NAME', 'interrupt', 'exit=CODE'] as const;
export const EXPECT_OPTIONS = ['expect'] as const;

export type RunMeta = { kind: 'run'; terminal?: string; interrupt: boolean; exitCode?: number };
export type ExpectMeta = { kind: 'expect' };
export type BlockMeta = RunMeta | ExpectMeta | { kind: 'plain' };
export type MetaResult = { ok: true; value: BlockMeta } | { ok: false; message: string };

/** Words that only make sense on a run block: seeing them without `run` is a typo worth reporting. */
const RUN_ONLY = /^(terminal|exit)=|^interrupt$/;

export function parseBlockMeta(meta: string | null | undefined): MetaResult {
  const words = (meta ?? '').trim().split(/\s+/).filter((word) => word.length > 0);
  if (words.includes('expect')) {
    const others = words.filter((word) => word !== 'expect');
    if (others.length > 0 || words.length !== 1) {
      return { ok: false, message: `an expect block takes no options, got "${others.join(' ') || 'expect expect'}"; allowed: expect` };
    }
    return { ok: true, value: { kind: 'expect' } };
  }
  if (!words.includes('run')) {
    const stray = words.find((word) => RUN_ONLY.test(word));
    if (stray) {
      return { ok: false, message: `option "${stray}" needs "run" in the same info string; allowed: ${RUN_OPTIONS.join(', ')}` };
    }
    return { ok: true, value: { kind: 'plain' } };
  }

  const value: RunMeta = { kind: 'run', interrupt: false };
  const seen = new Set<string>();
  for (const word of words) {
    const [key = '', ...rest] = word.split('=');
    const argument = rest.length > 0 ? rest.join('=') : undefined;
    if (seen.has(key)) return { ok: false, message: `option "${key}" is given twice; allowed once each: ${RUN_OPTIONS.join(', ')}` };
    seen.add(key);
    switch (key) {
      case 'run':
      case 'interrupt':
        if (argument !== undefined) return { ok: false, message: `option "${key}" takes no value, got "${word}"; allowed: ${RUN_OPTIONS.join(', ')}` };
        if (key === 'interrupt') value.interrupt = true;
        break;
      case 'terminal':
        if (!argument) return { ok: false, message: `option "terminal" needs a name, as in terminal=host; allowed: ${RUN_OPTIONS.join(', ')}` };
        value.terminal = argument;
        break;
      case 'exit': {
        if (argument === undefined || !/^\d{1,3}$/.test(argument) || Number(argument) > 255) {
          return { ok: false, message: `option "exit" needs an exit code from 0 to 255, got "${word}"; allowed: ${RUN_OPTIONS.join(', ')}` };
        }
        value.exitCode = Number(argument);
        break;
      }
      default:
        return { ok: false, message: `unknown block option "${word}"; allowed: ${RUN_OPTIONS.join(', ')}` };
    }
  }
  return { ok: true, value };
}
