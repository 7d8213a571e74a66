// What `lab up` says while it works. For a person: its usual lines. With `--progress`: one JSON
// object a line on stdout, for a program that shows the bring-up as it happens (the course runner):
//
//   {"plan":[{"phase":"sandbox","label":"Sandbox"},…]}        first, the phases to expect
//   {"phase":"fabric","state":"running","detail":"9 of 16 …"}  a phase started or moved on
//   {"phase":"fabric","state":"done","seconds":4.1}             a phase finished
//   {"log":"leaf10 up 2/2 links …"}                             any other line
//
// A bring-up runs in two processes (the host side makes the sandbox, the inside does the rest);
// only the host side prints the plan.

export const UP_PHASES = [
  { phase: 'sandbox', label: 'Sandbox' },
  { phase: 'devices', label: 'Switches, nodes and links' },
  { phase: 'services', label: 'Cluster services' },
  { phase: 'fabric', label: 'BGP fabric' },
  { phase: 'nodes', label: 'Nodes peering with their TORs' },
] as const;

export type UpPhase = (typeof UP_PHASES)[number]['phase'];
export type PhaseState = 'running' | 'done' | 'skipped';

export interface Progress {
  /** A line for a person. */
  log(line: string): void;
  /** A phase moved: `detail` says how far a running one is, `seconds` how long a finished one took. */
  phase(phase: UpPhase, state: PhaseState, extra?: { detail?: string; seconds?: number }): void;
  /** The phases to expect (host side only). */
  plan(): void;
}

type Write = (line: string) => void;

/** Plain lines: phases are already told by the lines around them. */
export function textProgress(write: Write): Progress {
  return { log: write, phase: () => undefined, plan: () => undefined };
}

export function jsonProgress(write: Write): Progress {
  const json = (value: unknown) => write(JSON.stringify(value));
  // A wait reports every time it looks (10 times a second); only a change is worth a line.
  let lastPhase = '';
  return {
    log: (line) => json({ log: line }),
    phase: (phase, state, extra = {}) => {
      const line = JSON.stringify({ phase, state, ...extra });
      if (line !== lastPhase) write(line);
      lastPhase = line;
    },
    plan: () => json({ plan: UP_PHASES }),
  };
}

/** Seconds since `start`, to two decimals, for `seconds` and for the lines a person reads. */
export function secondsSince(start: number): number {
  return Math.round((Date.now() - start) / 10) / 100;
}
