/** How retries back off: the first retry waits `baseMs`, each next one twice as long, up to `maxMs`. */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
}

/** The wait before retry number `attempt` (1 for the first retry) under `policy`. */
export function backoffDelay(attempt: number, policy: BackoffPolicy): number {
  if (attempt < 1) return 0;
  return Math.min(policy.baseMs * 2 ** (attempt - 1), policy.maxMs);
}
