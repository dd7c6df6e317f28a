/** Process exit codes, documented in README. */
export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  DATA: 3,
} as const;
