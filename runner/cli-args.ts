// What every command-line entry point of the project shares: walking its arguments, and the option
// values more than one of them takes. A UsageError is a mistake in the command line: the entry
// point prints its message and usage, and exits 2.

export class UsageError extends Error {}

/** Reads argv one word at a time; `value(flag)` takes the next word as that flag's value. */
export class ArgvReader {
  #index = -1;
  readonly #argv: readonly string[];

  constructor(argv: readonly string[]) {
    this.#argv = argv;
  }

  next(): string | undefined {
    return this.#argv[++this.#index];
  }

  value(flag: string): string {
    const value = this.#argv[++this.#index];
    if (value === undefined || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return value;
  }
}

/** `--port`: 0 (any free port) to 65535. */
export function parsePort(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 65535) throw new UsageError(`--port must be 0 to 65535, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** `--idle-minutes`, returned in milliseconds. */
export function parseIdleMinutes(text: string): number {
  const minutes = Number(text);
  if (!Number.isFinite(minutes) || minutes <= 0) throw new UsageError(`--idle-minutes must be a positive number, got ${JSON.stringify(text)}`);
  return minutes * 60_000;
}

/** A start-up failure whose message says it all (what is missing, how to fix it): printed as it is, exit 1. */
export class StartupError extends Error {
  override name = 'StartupError';
}
