// The one contract between the browser and the runner.
//
// Both sides import this module and nothing else of each other, so it imports neither `node:*` nor
// the DOM: only zod. Every message type string is spelled here and nowhere else; every frame is
// parsed with these schemas before it is used. Pty bytes travel as binary frames (see
// `encodeChannelFrame`), everything else as JSON text frames.

import { z } from 'zod';

/** Bumped on any incompatible change; sent in `hello` and checked by the runner. */
export const PROTOCOL_VERSION = 1;

// ---------------------------------------------------------------------------------------------
// Limits and flow control
// ---------------------------------------------------------------------------------------------

/** A JSON frame larger than this is refused: the largest legitimate one is a `hello` or `run`. */
export const MAX_CONTROL_FRAME_BYTES = 64 * 1024;
/** A binary input frame larger than this is refused: pasted text arrives in pieces well below it. */
export const MAX_INPUT_FRAME_BYTES = 64 * 1024;

/**
 * Flow control, as VS Code's terminal and wetty do it: the runner counts the pty bytes it has sent
 * on a channel that the page has not yet acknowledged as drawn. Above the high watermark it pauses
 * the pty (the shell then blocks on write, so nothing piles up in the runner); once the page has
 * caught up below the low watermark it resumes. The page acknowledges every ACK_CHUNK_BYTES drawn.
 * Invariant: LOW < HIGH, and ACK_CHUNK < HIGH - LOW so that a paused channel always gets an ack
 * that can take it under LOW.
 */
export const FLOW_HIGH_WATERMARK_BYTES = 128 * 1024;
export const FLOW_LOW_WATERMARK_BYTES = 16 * 1024;
export const FLOW_ACK_CHUNK_BYTES = 8 * 1024;

/** Output from a pty is batched for this long before it is sent, so a flood becomes few frames. */
export const OUTPUT_BATCH_MS = 5;

// ---------------------------------------------------------------------------------------------
// Shell-integration marks: what the shells the runner starts print around prompts and commands
// (runner/shell-integration.bash), parsed by runner/shell-marks.ts and stripped before output
// reaches the page, which never sees them. Kept here with every other code on the wire.
// ---------------------------------------------------------------------------------------------

/** OSC 133 (FinalTerm): prompt start A, prompt end B, output start C, command done D;EXIT. */
export const OSC_FINAL_TERM = '133';
/** OSC 633 (VS Code): E;ESCAPED-COMMAND-LINE. */
export const OSC_COMMAND_LINE = '633';
export const MARK_PROMPT_START = 'A';
export const MARK_PROMPT_END = 'B';
export const MARK_OUTPUT_START = 'C';
export const MARK_COMMAND_DONE = 'D';
export const MARK_COMMAND_LINE = 'E';

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/** Terminal, lesson, step and block ids: short, URL-safe, and safe inside a log line. */
export const idSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, ".", "_" and "-", starting with a letter or digit');
export type Id = z.infer<typeof idSchema>;

/** A block id is `<lesson>/<step>/<n>`; a step id is `<lesson>/<step>`. */
export const qualifiedIdSchema = z
  .string()
  .min(3)
  .max(200)
  .regex(/^[a-z0-9][a-z0-9._-]*(\/[a-z0-9][a-z0-9._-]*){1,2}$/, 'ids joined by "/"');

export const terminalSizeSchema = z.object({
  cols: z.number().int().min(2).max(1000),
  rows: z.number().int().min(1).max(500),
});

export const blockStateSchema = z.enum(['idle', 'queued', 'running', 'passed', 'failed']);
export type BlockState = z.infer<typeof blockStateSchema>;

export const stepStateSchema = z.enum(['idle', 'running', 'passed', 'failed']);
export type StepState = z.infer<typeof stepStateSchema>;

// ---------------------------------------------------------------------------------------------
// The course manifest: written by the site build from the lessons, loaded by the runner, which
// therefore never trusts the page for what a block runs or what a check expects.
// ---------------------------------------------------------------------------------------------

/** Where in a lesson's source something was written, for error messages. */
export const sourceRefSchema = z.object({ file: z.string(), line: z.number().int().min(1) });

export const blockSchema = z.object({
  id: qualifiedIdSchema,
  terminal: idSchema,
  /** Exactly what is typed, newline-terminated lines; multi-line blocks go as a bracketed paste. */
  code: z.string().min(1).max(32 * 1024),
  /** Send Ctrl-C first, for blocks that follow a long-running command in the same terminal. */
  interrupt: z.boolean().default(false),
  /** Expected-output pattern (see runner/matcher.ts), or absent when the output proves nothing. */
  expect: z.string().max(32 * 1024).optional(),
  /** The exit code the block must end with to pass; absent means any code. */
  exitCode: z.number().int().min(0).max(255).optional(),
  source: sourceRefSchema,
});
export type Block = z.infer<typeof blockSchema>;

export const stateCheckSchema = z.object({
  /** A hidden command run in the learner's lab; the check passes when it exits 0. */
  command: z.string().min(1).max(4096),
  terminal: idSchema,
  timeoutMs: z.number().int().min(100).max(300_000),
  intervalMs: z.number().int().min(50).max(60_000),
  /** What the learner is told while the check is not passing. */
  description: z.string().max(500),
  source: sourceRefSchema,
});
export type StateCheck = z.infer<typeof stateCheckSchema>;

export const stepSchema = z.object({
  id: qualifiedIdSchema,
  title: z.string().min(1).max(200),
  blocks: z.array(blockSchema),
  checks: z.array(stateCheckSchema),
  /**
   * False when what the step does to the lab does not outlast its lesson (it only looks, or a later
   * step of the lesson undoes it): catching up to a later lesson skips it. Absent means true.
   */
  lasting: z.boolean().optional(),
});
export type Step = z.infer<typeof stepSchema>;

export const terminalSpecSchema = z.object({
  name: idSchema,
  title: z.string().min(1).max(80),
});
export type TerminalSpec = z.infer<typeof terminalSpecSchema>;

export const lessonManifestSchema = z.object({
  id: idSchema,
  title: z.string(),
  order: z.number().int(),
  terminals: z.array(terminalSpecSchema).min(1),
  steps: z.array(stepSchema),
});
export type LessonManifest = z.infer<typeof lessonManifestSchema>;

export const courseManifestSchema = z.object({
  version: z.literal(1),
  lessons: z.array(lessonManifestSchema),
});
export type CourseManifest = z.infer<typeof courseManifestSchema>;

// ---------------------------------------------------------------------------------------------
// Lab state (runner -> page): a snapshot of the learner's lab as a graph, for the live topology
// view. Generic on purpose: devices with a role and a group, links between "device:iface" ends,
// sessions between two devices. The runner gets snapshots from its target (Target.observe) and
// knows nothing of what the devices are; the page lays the graph out from roles and groups.
// Additive: a page that never sends `watch-topology` never gets `topology` frames.
// ---------------------------------------------------------------------------------------------

/** Lab names (devices, interfaces, groups): short, printable, no spaces. */
const labNameSchema = z.string().min(1).max(80).regex(/^[A-Za-z0-9][A-Za-z0-9._:/@-]*$/, 'letters, digits and . _ : / @ -');

/**
 * What a device is; the page draws spines on top, leaves below them, nodes below their leaves and
 * pods inside their node. `other` is drawn in a row of its own.
 */
export const labDeviceRoleSchema = z.enum(['spine', 'leaf', 'node', 'pod', 'other']);
export type LabDeviceRole = z.infer<typeof labDeviceRoleSchema>;

/** `failed`: made to fail on purpose (a failure injected in the lab); `notready`: up but not serving. */
export const labDeviceStateSchema = z.enum(['up', 'down', 'failed', 'notready']);
export type LabDeviceState = z.infer<typeof labDeviceStateSchema>;

export const labDeviceSchema = z.object({
  name: labNameSchema,
  role: labDeviceRoleSchema,
  /** Devices of one group (a rack) are drawn side by side; absent for devices shared by all (spines). */
  group: labNameSchema.optional(),
  /** For a pod: the device it runs on. */
  parent: labNameSchema.optional(),
  state: labDeviceStateSchema,
  /** One line shown on hover, such as "failed (silent)" or "NotReady". */
  detail: z.string().max(200).optional(),
});
export type LabDevice = z.infer<typeof labDeviceSchema>;

export const labLinkStateSchema = z.enum(['up', 'down']);
export type LabLinkState = z.infer<typeof labLinkStateSchema>;

export const labLinkSchema = z.object({
  /** Ends as "device:iface". */
  a: labNameSchema,
  b: labNameSchema,
  state: labLinkStateSchema,
  detail: z.string().max(200).optional(),
});
export type LabLink = z.infer<typeof labLinkSchema>;

export const labSessionProtocolSchema = z.enum(['bgp', 'bfd']);

export const labSessionSchema = z.object({
  /** The two devices; `a` is the one that reported first, `b` its peer. */
  a: labNameSchema,
  b: labNameSchema,
  protocol: labSessionProtocolSchema,
  /** As the daemons say it: "Established", "Active", "Idle", "Connect", "down"… */
  state: z.string().min(1).max(80),
  established: z.boolean(),
  detail: z.string().max(200).optional(),
});
export type LabSession = z.infer<typeof labSessionSchema>;

/** A lab far bigger than a course's fits; a bigger snapshot is a bug in the target. */
export const MAX_LAB_ITEMS = 500;

export const labSnapshotSchema = z.object({
  devices: z.array(labDeviceSchema).max(MAX_LAB_ITEMS),
  links: z.array(labLinkSchema).max(MAX_LAB_ITEMS),
  sessions: z.array(labSessionSchema).max(MAX_LAB_ITEMS),
});
export type LabSnapshot = z.infer<typeof labSnapshotSchema>;

/** One difference between two snapshots: "leaf10 → k8s-master BGP: Established → Active". */
export const labChangeSchema = z.object({
  kind: z.enum(['device', 'link', 'session']),
  /** The device, "a:x — b:y" for a link, "a → b BGP" for a session. */
  subject: z.string().max(200),
  /** Absent when the item appeared. */
  from: z.string().max(80).optional(),
  /** Absent when the item disappeared. */
  to: z.string().max(80).optional(),
  /** When the runner saw it, ms since the epoch. */
  at: z.number(),
});
export type LabChange = z.infer<typeof labChangeSchema>;

/** Page -> runner: send `topology` frames for this learner's lab while this page is connected. */
export const watchTopologyMessageSchema = z.object({ type: z.literal('watch-topology') });

/**
 * Runner -> page: the lab as it is now (sent when a page starts watching and whenever it changes),
 * with the latest changes seen (newest last). `snapshot` is null while the lab cannot be observed
 * (starting, down), with `unavailable` saying why.
 */
export const topologyMessageSchema = z.object({
  type: z.literal('topology'),
  snapshot: labSnapshotSchema.nullable(),
  unavailable: z.string().max(2000).optional(),
  changes: z.array(labChangeSchema).max(50),
});
export type TopologyMessage = z.infer<typeof topologyMessageSchema>;

// ---------------------------------------------------------------------------------------------
// Start-up: a target whose environment takes a while to come up (the lab) says how far it is.
// ---------------------------------------------------------------------------------------------

export const startupPhaseSchema = z.object({
  /** The target's name for the phase ("fabric"). */
  phase: z.string().min(1).max(40),
  /** For the learner ("BGP fabric"). */
  label: z.string().min(1).max(80),
  /** `failed`: the phase that was running when the start failed. */
  state: z.enum(['pending', 'running', 'done', 'skipped', 'failed']),
  /** How far a running phase is ("9 of 16 sessions Established"). */
  detail: z.string().max(200).optional(),
  /** How long a finished phase took. */
  seconds: z.number().min(0).optional(),
});
export type StartupPhase = z.infer<typeof startupPhaseSchema>;

export const startupProgressSchema = z.object({
  /**
   * `starting`: terminals open as soon as their device exists, blocks wait for `ready`;
   * `failed`: `message` is one sentence, `detail` the end of the log; opening a terminal again retries.
   */
  state: z.enum(['starting', 'ready', 'failed']),
  phases: z.array(startupPhaseSchema).max(20),
  message: z.string().max(1000).optional(),
  detail: z.string().max(8000).optional(),
});
export type StartupProgress = z.infer<typeof startupProgressSchema>;

/** Runner -> page: the learner's environment start, when it begins, at each change, and to a page that connects. */
export const startupMessageSchema = startupProgressSchema.extend({ type: z.literal('startup') });

// ---------------------------------------------------------------------------------------------
// Step verification and catch-up (page/checker -> runner). Additive: older runners answer these
// with `bad-frame`, older pages never send them.
// ---------------------------------------------------------------------------------------------

/**
 * Evaluates a step's checks on the learner's lab as it is now, WITHOUT running the step's blocks,
 * to prove that each check fails before the step runs. Answered by `verified`.
 */
export const verifyStepMessageSchema = z.object({ type: z.literal('verify-step'), step: qualifiedIdSchema });

/**
 * Brings the learner's lab to the state this lesson (or, with `step`, that step of this lesson)
 * needs, by running every block of every earlier step in order: the earlier lessons by `order`,
 * then the earlier steps of this lesson. Progress comes as `catch-up` frames.
 */
export const catchUpMessageSchema = z.object({
  type: z.literal('catch-up'),
  /** A step of the page's lesson to catch up to; absent: the lesson's start. */
  step: qualifiedIdSchema.optional(),
});

// ---------------------------------------------------------------------------------------------
// Page -> runner (JSON text frames)
// ---------------------------------------------------------------------------------------------

export const clientMessageSchema = z.discriminatedUnion('type', [
  /** First frame on a connection: which lesson this page shows. */
  z.object({ type: z.literal('hello'), protocol: z.number().int(), lesson: idSchema }),
  /** Attach to a terminal of the lesson (starting its shell if needed); answered by `opened`. */
  z.object({ type: z.literal('open'), terminal: idSchema, size: terminalSizeSchema }),
  z.object({ type: z.literal('resize'), terminal: idSchema, size: terminalSizeSchema }),
  /** Run a block of the lesson by id; the runner looks its code up in the manifest. */
  z.object({ type: z.literal('run'), block: qualifiedIdSchema, interrupt: z.boolean().optional() }),
  z.object({ type: z.literal('interrupt'), terminal: idSchema }),
  /** The page has drawn this many more bytes of the channel's output (flow control). */
  z.object({ type: z.literal('ack'), channel: z.number().int().min(0).max(255), bytes: z.number().int().min(1).max(1 << 30) }),
  /** Forget this lesson's step states (the learner starts the lesson again). */
  z.object({ type: z.literal('reset-lesson') }),
  /**
   * The learner resets their lab: their shells and lab end and every page of theirs is closed; the
   * pages reconnect to a fresh lab. `clearProgress` also forgets every step of the course.
   */
  z.object({ type: z.literal('reset-lab'), clearProgress: z.boolean() }),
  /** Start the learner's environment again after a failed start (`startup` said `failed`). */
  z.object({ type: z.literal('retry-startup') }),
  // Lab state (see its section above).
  watchTopologyMessageSchema,
  // Step verification and catch-up (see their section above).
  verifyStepMessageSchema,
  catchUpMessageSchema,
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;

// ---------------------------------------------------------------------------------------------
// Runner -> page (JSON text frames)
// ---------------------------------------------------------------------------------------------

export const checkResultSchema = z.object({
  /** Which check: `output` for a block's expected output, or the state check's index. */
  check: z.union([z.literal('output'), z.literal('exit-code'), z.number().int().min(0)]),
  passed: z.boolean(),
  /** Human-readable reason, e.g. "exited with 1, expected 0" or the state check's description. */
  message: z.string(),
  /** Unified diff of expected against actual, for output checks. */
  diff: z.string().optional(),
});
export type CheckResult = z.infer<typeof checkResultSchema>;

export const blockStatusSchema = z.object({
  block: qualifiedIdSchema,
  state: blockStateSchema,
  exitCode: z.number().int().optional(),
  durationMs: z.number().min(0).optional(),
  results: z.array(checkResultSchema).default([]),
});
export type BlockStatus = z.infer<typeof blockStatusSchema>;

export const stepStatusSchema = z.object({
  step: qualifiedIdSchema,
  state: stepStateSchema,
  results: z.array(checkResultSchema).default([]),
  updatedAt: z.number().optional(),
});
export type StepStatus = z.infer<typeof stepStatusSchema>;

export const errorCodeSchema = z.enum([
  'bad-frame', // not JSON, not a known message, or fields out of range
  'frame-too-large',
  'protocol-version',
  'not-ready', // a message that needs `hello` first
  'unknown-lesson',
  'unknown-terminal',
  'unknown-block',
  'terminal-busy', // a block was refused: its terminal is busy and its queue of waiting blocks is full
  'spawn-failed', // the target could not start a shell
  'lesson-locked', // workshop mode: the instructor has not opened this lesson to the room yet
  'catch-up-busy', // a catch-up is already running for this learner
  'unknown-step', // verify-step or catch-up named a step this lesson does not have
  'internal',
]);
export type ErrorCode = z.infer<typeof errorCodeSchema>;

// ---------------------------------------------------------------------------------------------
// Step verification and catch-up (runner -> page/checker). Additive, see the section above.
// ---------------------------------------------------------------------------------------------

/**
 * What one check of a step says before the step's blocks ran:
 * - `fails-before`: the check does not pass yet, so its passing later proves the step;
 * - `passes-too-early`: a state check exited 0 within VERIFY_WINDOW_MS, or an expected-output
 *   pattern matches the empty output (a pattern that matches nothing printed proves nothing);
 *   the check is broken;
 * - `proves-nothing`: the step has no state check and no expected output, only exit codes (or
 *   nothing): its blocks pass whenever they finish as expected, so nothing can fail before.
 */
export const verifyVerdictSchema = z.enum(['fails-before', 'passes-too-early', 'proves-nothing']);
export type VerifyVerdict = z.infer<typeof verifyVerdictSchema>;

/**
 * A state check "passes too early" if it exits 0 at any attempt within this window (or within its
 * own timeout, if shorter), polled at its own interval: a check that would turn true by itself a
 * moment later (something still converging from an earlier step) proves no more than one that is
 * already true.
 */
export const VERIFY_WINDOW_MS = 1000;

export const verifiedCheckSchema = z.object({
  /** As in checkResultSchema: `output` for a block's expected output, or the state check's index. */
  check: z.union([z.literal('output'), z.literal('exit-code'), z.number().int().min(0)]),
  /** The block whose expected output or exit code this is. */
  block: qualifiedIdSchema.optional(),
  verdict: verifyVerdictSchema,
  message: z.string(),
});
export type VerifiedCheck = z.infer<typeof verifiedCheckSchema>;

export const verifiedMessageSchema = z.object({
  type: z.literal('verified'),
  step: qualifiedIdSchema,
  /** False when any check passes too early. */
  ok: z.boolean(),
  checks: z.array(verifiedCheckSchema),
  durationMs: z.number().min(0),
});
export type VerifiedMessage = z.infer<typeof verifiedMessageSchema>;

export const catchUpStateSchema = z.enum(['running', 'passed', 'failed']);
export type CatchUpState = z.infer<typeof catchUpStateSchema>;

/**
 * Catch-up progress, sent to the page that asked: `running` as each block starts (with `done` of
 * `total` blocks finished), then `passed` once every earlier step passed, or `failed` at the first
 * block or step that did not pass, with why. Blocks and steps of this lesson also get their usual
 * `block`/`step` frames; those of earlier lessons are stored as usual.
 */
export const catchUpStatusMessageSchema = z.object({
  type: z.literal('catch-up'),
  lesson: idSchema,
  /** The step caught up to, if one was asked for. */
  step: qualifiedIdSchema.optional(),
  state: catchUpStateSchema,
  done: z.number().int().min(0),
  total: z.number().int().min(0),
  /** The block running (or that failed). */
  block: qualifiedIdSchema.optional(),
  message: z.string(),
  /** The failing checks, with diffs, when `failed`. */
  results: z.array(checkResultSchema).default([]),
});
export type CatchUpStatusMessage = z.infer<typeof catchUpStatusMessageSchema>;

export const serverMessageSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('welcome'),
    protocol: z.number().int(),
    learner: z.string(),
    lesson: idSchema,
    steps: z.array(stepStatusSchema),
    blocks: z.array(blockStatusSchema),
  }),
  /** A terminal is attached on `channel`; its restored screen follows as binary output. */
  z.object({ type: z.literal('opened'), terminal: idSchema, channel: z.number().int().min(0).max(255) }),
  /** The terminal's shell ended; `open` starts a new one. */
  z.object({ type: z.literal('exited'), terminal: idSchema, exitCode: z.number().int().nullable() }),
  /** A command finished in a terminal, whether clicked or typed. */
  z.object({
    type: z.literal('command'),
    terminal: idSchema,
    command: z.string(),
    exitCode: z.number().int().nullable(),
    durationMs: z.number().min(0),
  }),
  z.object({ type: z.literal('block'), status: blockStatusSchema }),
  z.object({ type: z.literal('step'), status: stepStatusSchema }),
  z.object({ type: z.literal('error'), code: errorCodeSchema, message: z.string(), ref: z.string().optional() }),
  // Lab state and start-up (see their sections above).
  topologyMessageSchema,
  startupMessageSchema,
  // Step verification and catch-up (see their section above).
  verifiedMessageSchema,
  catchUpStatusMessageSchema,
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;

// ---------------------------------------------------------------------------------------------
// Binary frames: one byte of channel, then the bytes (pty output to the page, keystrokes to the pty)
// ---------------------------------------------------------------------------------------------

export function encodeChannelFrame(channel: number, data: Uint8Array): Uint8Array {
  if (!Number.isInteger(channel) || channel < 0 || channel > 255) {
    throw new RangeError(`channel must be an integer from 0 to 255, got ${channel}`);
  }
  const frame = new Uint8Array(data.byteLength + 1);
  frame[0] = channel;
  frame.set(data, 1);
  return frame;
}

export type ChannelFrame = { channel: number; data: Uint8Array };

/** Returns null for an empty frame, which carries no channel. */
export function decodeChannelFrame(frame: Uint8Array): ChannelFrame | null {
  if (frame.byteLength < 1) return null;
  return { channel: frame[0]!, data: frame.subarray(1) };
}

// ---------------------------------------------------------------------------------------------
// Parsing helpers, so neither side hand-rolls JSON.parse + validation
// ---------------------------------------------------------------------------------------------

export type Parsed<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string };

function parseWith<T>(schema: z.ZodType<T>, text: string, maxBytes: number): Parsed<T> {
  if (text.length > maxBytes) {
    return { ok: false, code: 'frame-too-large', message: `frame of ${text.length} bytes exceeds the limit of ${maxBytes}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, code: 'bad-frame', message: `frame is not JSON: ${(error as Error).message}` };
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const issues = result.error.issues
      .map((issue) => `${issue.path.length ? issue.path.join('.') : '(frame)'}: ${issue.message}`)
      .join('; ');
    return { ok: false, code: 'bad-frame', message: `invalid frame: ${issues}` };
  }
  return { ok: true, value: result.data };
}

export function parseClientMessage(text: string): Parsed<ClientMessage> {
  return parseWith(clientMessageSchema, text, MAX_CONTROL_FRAME_BYTES);
}

/** The page trusts the runner, but still refuses frames it does not understand. */
export function parseServerMessage(text: string): Parsed<ServerMessage> {
  return parseWith(serverMessageSchema, text, Number.MAX_SAFE_INTEGER);
}

// ---------------------------------------------------------------------------------------------
// HTTP endpoints the page calls on the runner (same origin only)
// ---------------------------------------------------------------------------------------------

/** Where the page finds the WebSocket and the per-start secret it must present there. */
export const SESSION_PATH = '/api/session';
/** The WebSocket endpoint; the token goes in the `token` query parameter. */
export const WEBSOCKET_PATH = '/ws';
/** This learner's step states across every lesson, for the course home. */
export const PROGRESS_PATH = '/api/progress';
/** The cookie that identifies a learner (set by the runner, HttpOnly, SameSite=Strict). */
export const LEARNER_COOKIE = 'learner';

export const sessionResponseSchema = z.object({ token: z.string().min(16), learner: z.string() });

/**
 * Where a page shows the runner's start key to have its browser admitted (POST, JSON
 * `{key}`); the key comes in the fragment of the URL the runner printed (`#start=KEY`), which no
 * request carries and the page removes from the address bar.
 */
export const ADMIT_PATH = '/api/admit';
export const START_KEY_PARAM = 'start';
export const admitRequestSchema = z.object({ key: z.string().min(1).max(200) });
export type AdmitRequest = z.infer<typeof admitRequestSchema>;
export type SessionResponse = z.infer<typeof sessionResponseSchema>;

export const progressResponseSchema = z.object({ steps: z.array(stepStatusSchema) });
export type ProgressResponse = z.infer<typeof progressResponseSchema>;

// ---------------------------------------------------------------------------------------------
// Workshop mode (runner/workshop/): one instructor, a room of learners who joined with a code.
// Additive: outside a workshop none of this is used. Two more sockets, both admitted like `/ws`
// (allowed Origin and Host): the learner's `WORKSHOP_LEARNER_WEBSOCKET_PATH` (session token and a
// joined learner's cookie) for notices and locks, and the instructor's
// `WORKSHOP_INSTRUCTOR_WEBSOCKET_PATH` (the instructor secret in `key`). Learners appear to the
// instructor by `seat`, a public id that is not their cookie, so a dashboard on a projector gives
// nobody a learner's identity.
// ---------------------------------------------------------------------------------------------

/** The learner's join form posts `{code, name}` here; answered by `workshopJoinResponseSchema`. */
export const WORKSHOP_JOIN_PATH = '/api/workshop/join';
/** Is a workshop running, and has this browser joined it (learner pages ask before connecting). */
export const WORKSHOP_STATUS_PATH = '/api/workshop/status';
/** Results, `?format=csv|json`; needs `Authorization: Bearer <instructor secret>`. */
export const WORKSHOP_EXPORT_PATH = '/api/workshop/export';
export const WORKSHOP_LEARNER_WEBSOCKET_PATH = '/ws/workshop';
export const WORKSHOP_INSTRUCTOR_WEBSOCKET_PATH = '/ws/instructor';
/** The pages: the join form and the instructor's dashboard (the secret travels in the URL fragment). */
export const WORKSHOP_JOIN_PAGE = '/join/';
export const WORKSHOP_DASHBOARD_PAGE = '/workshop/';

/** Display names: what a room of people types, nothing that could pass for markup or a control. */
export const WORKSHOP_NAME_MAX = 40;
export const workshopDisplayNameSchema = z
  .string()
  .trim()
  .min(1, 'enter a name')
  .max(WORKSHOP_NAME_MAX, `at most ${WORKSHOP_NAME_MAX} characters`)
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} .'_-]*$/u, "letters, digits, spaces and . ' _ -, starting with a letter or digit");

/** Workshop codes: 6 characters with no look-alikes (no 0/O, 1/I/L), typed from a projector. */
export const WORKSHOP_CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const workshopCodeSchema = z
  .string()
  .trim()
  .transform((code) => code.toUpperCase().replace(/[\s-]/g, ''))
  .pipe(z.string().length(6, 'the code has 6 characters').regex(/^[23456789A-HJKMNP-Z]+$/, 'letters and digits as shown on screen'));

export const workshopJoinRequestSchema = z.object({ code: z.string().max(32), name: z.string().max(200) });
export const workshopJoinResponseSchema = z.object({ name: z.string(), workshop: z.string() });
export const workshopStatusResponseSchema = z.object({
  active: z.boolean(),
  workshop: z.string().optional(),
  /** The learner's display name when this browser has joined. */
  joinedAs: z.string().optional(),
});
export type WorkshopStatusResponse = z.infer<typeof workshopStatusResponseSchema>;

export const workshopNoticeSchema = z.object({
  id: z.string(),
  kind: z.enum(['hint', 'broadcast']),
  text: z.string().min(1).max(1000),
  at: z.number(),
});
export type WorkshopNotice = z.infer<typeof workshopNoticeSchema>;

/** Runner -> learner page, on the learner's workshop socket. */
export const workshopLearnerMessageSchema = z.discriminatedUnion('type', [
  /** On connect and whenever it changes: the room's name, end time and the lessons not yet open. */
  z.object({
    type: z.literal('workshop'),
    name: z.string(),
    endsAt: z.number().nullable(),
    learner: z.string(),
    locked: z.array(idSchema),
  }),
  /** A hint for this learner or a message to the room; also the recent ones again on connect. */
  z.object({ type: z.literal('notice'), notice: workshopNoticeSchema }),
  /** The instructor reset this learner's lab: the page reloads to get fresh terminals. */
  z.object({ type: z.literal('lab-reset') }),
]);
export type WorkshopLearnerMessage = z.infer<typeof workshopLearnerMessageSchema>;

/** One learner as the dashboard shows them. Times are epoch milliseconds. */
export const workshopLearnerRowSchema = z.object({
  seat: z.string(),
  name: z.string(),
  joinedAt: z.number(),
  lastSeenAt: z.number(),
  /** A page of theirs is connected now. */
  online: z.boolean(),
  /** Every step with a state other than idle, by step id. */
  steps: z.record(z.string(), stepStateSchema),
  /** The first step of an open lesson they have not passed; null when done with every open one. */
  current: z.string().nullable(),
  /** Since when they have been on `current`: their last pass, or when they joined. */
  currentSince: z.number(),
  lastFailure: z
    .object({ step: z.string(), message: z.string(), diff: z.string().optional(), at: z.number() })
    .nullable(),
  /** Their terminals with a running shell, which the instructor can watch. */
  terminals: z.array(idSchema),
});
export type WorkshopLearnerRow = z.infer<typeof workshopLearnerRowSchema>;

export const workshopRoomSchema = z.object({
  name: z.string(),
  code: z.string(),
  joinUrl: z.string(),
  startedAt: z.number(),
  endsAt: z.number().nullable(),
  lessons: z.array(
    z.object({
      id: idSchema,
      title: z.string(),
      locked: z.boolean(),
      steps: z.array(z.object({ id: z.string(), title: z.string() })),
    }),
  ),
  /** Actions this runner offers beyond the always-present ones (e.g. `catch-up`). */
  features: z.array(z.string()),
});
export type WorkshopRoom = z.infer<typeof workshopRoomSchema>;

/** Dashboard -> runner, on the instructor socket. */
export const instructorMessageSchema = z.discriminatedUnion('type', [
  /** Watch a learner's terminal, read-only; its screen then its output follow as binary frames on channel 0. */
  z.object({ type: z.literal('watch'), seat: z.string().max(64), terminal: idSchema }),
  z.object({ type: z.literal('unwatch') }),
  z.object({ type: z.literal('hint'), seat: z.string().max(64), text: z.string().trim().min(1).max(1000) }),
  z.object({ type: z.literal('broadcast'), text: z.string().trim().min(1).max(1000) }),
  /** End the learner's shells and lab; the next page connection gets a fresh one. Progress is kept. */
  z.object({ type: z.literal('reset-lab'), seat: z.string().max(64) }),
  z.object({ type: z.literal('set-lock'), lesson: idSchema, locked: z.boolean() }),
  /** Bring the learner's lab to `step`: every earlier step's blocks run in their terminals (runner/catch-up.ts). */
  z.object({ type: z.literal('catch-up'), seat: z.string().max(64), step: qualifiedIdSchema }),
]);
export type InstructorMessage = z.infer<typeof instructorMessageSchema>;

/** Runner -> dashboard. */
export const instructorServerMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('room'), room: workshopRoomSchema, now: z.number() }),
  z.object({ type: z.literal('learners'), learners: z.array(workshopLearnerRowSchema), now: z.number() }),
  /** One learner changed (joined, progressed, came or went). */
  z.object({ type: z.literal('learner'), learner: workshopLearnerRowSchema, now: z.number() }),
  z.object({ type: z.literal('watching'), seat: z.string(), terminal: idSchema }),
  z.object({ type: z.literal('watch-ended'), seat: z.string(), terminal: idSchema, reason: z.string() }),
  /** An action was carried out; `message` says what, for the dashboard's log. */
  z.object({ type: z.literal('done'), action: z.string(), message: z.string() }),
  z.object({ type: z.literal('error'), message: z.string() }),
]);
export type InstructorServerMessage = z.infer<typeof instructorServerMessageSchema>;

export function parseInstructorMessage(text: string): Parsed<InstructorMessage> {
  return parseWith(instructorMessageSchema, text, MAX_CONTROL_FRAME_BYTES);
}
export function parseInstructorServerMessage(text: string): Parsed<InstructorServerMessage> {
  return parseWith(instructorServerMessageSchema, text, Number.MAX_SAFE_INTEGER);
}
export function parseWorkshopLearnerMessage(text: string): Parsed<WorkshopLearnerMessage> {
  return parseWith(workshopLearnerMessageSchema, text, Number.MAX_SAFE_INTEGER);
}
