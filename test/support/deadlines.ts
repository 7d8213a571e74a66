// How long a test waits for something before it fails. Every wait is a poll that returns as soon
// as its condition holds, so a long deadline costs nothing when all is well: it only bounds how
// long a broken run hangs. The deadlines are sized for a 2-core machine with a workshop's room on
// it (load 15–40), not for the quiet machine a test is written on: there a lab takes 10–20 times
// as long to come up as on a quiet one (bench/README.md, "Tests under load").

/** A frame from the runner, a shell command's output, a page element: seconds when quiet. */
export const WAIT_MS = 90_000;

/** A lab brought up, converged, failed or restored: 10–20 s when quiet, minutes at load 40. */
export const LAB_WAIT_MS = 6 * 60_000;

/** A whole test (or suite) that brings up labs: several lab waits, and never forever. */
export const LAB_TEST_TIMEOUT_MS = 4 * LAB_WAIT_MS;
