/** Process exit codes, documented in README. */
export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  DATA: 3,
} as const;

/** Exit code of a user-facing error: 2 for usage mistakes, 3 for data problems, else 1. */
export function exitCodeOf(code: string): number {
  switch (code) {
    case 'CONFIG_INVALID':
    case 'CONFIG_FILE_UNREADABLE':
    case 'USAGE':
    case 'RESTORE_TARGET_NOT_EMPTY':
    case 'RESTORE_TARGET_PARTITIONS':
    case 'RESTORE_JOB_CONFLICT':
    case 'RESTORE_JOB_UNKNOWN':
      return ExitCode.USAGE;
    case 'RESTORE_NO_DATA':
    case 'RESTORE_GAP':
    case 'RESTORE_RECORD_TOO_LARGE':
    case 'RESTORE_VERIFY_FAILED':
      return ExitCode.DATA;
    default:
      return ExitCode.FAILURE;
  }
}
