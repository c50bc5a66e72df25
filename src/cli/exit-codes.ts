/** The exit codes of every gitward command (docs/cli.md). */
export const ExitCode = {
  /** Success; for plan with --detailed-exitcode: no changes. */
  Ok: 0,
  /** An error: invalid input, failed render, error findings, unreachable remote. */
  Error: 1,
  /** plan and diff with --detailed-exitcode: success, and there are changes. */
  Changes: 2,
} as const;
/** One of {@link ExitCode}. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
