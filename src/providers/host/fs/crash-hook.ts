/** The environment variables of {@link crashHook}. */
export type CrashVariable = "GITWARD_TEST_CRASH_AFTER_OPS" | "GITWARD_TEST_CRASH_AFTER_UNDO";

/** Counts finished steps and kills the process when a test asked for it. */
export interface CrashHook {
  /** Kills the process if the count has reached the limit (a limit of 0 fires at the first check). */
  check(): void;
  /** Counts one finished step, then checks. */
  done(): void;
}

/**
 * A test hook for crash safety, read once per transaction: with `GITWARD_TEST_CRASH_AFTER_OPS=N`
 * the process SIGKILLs itself once N operations of a transaction have finished (0: right after
 * the journal is written); `GITWARD_TEST_CRASH_AFTER_UNDO=N` does the same during a rollback.
 * Operations still in flight are cut wherever they are, as in a real crash. Unset, it does nothing.
 */
export function crashHook(variable: CrashVariable): CrashHook {
  const raw = process.env[variable];
  const limit = raw === undefined || raw === "" ? Number.NaN : Number(raw);
  if (!Number.isInteger(limit) || limit < 0) return { check: () => undefined, done: () => undefined };
  let count = 0;
  const check = (): void => {
    if (count >= limit) process.kill(process.pid, "SIGKILL");
  };
  return { check, done: () => { count++; check(); } };
}
