/**
 * How long an HTTP `Retry-After` header asks a client to wait, in milliseconds: delay seconds
 * (`120`) or an HTTP date, never negative, at most `capMs`; undefined when absent or unreadable.
 * The forge clients and the agent's notifications read it alike.
 */
export function retryAfterMs(value: string | null | undefined, nowMs: number, capMs = Number.POSITIVE_INFINITY): number | undefined {
  const v = value?.trim() ?? "";
  if (v === "") return undefined;
  const ms = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : Date.parse(v) - nowMs;
  return Number.isNaN(ms) ? undefined : Math.min(capMs, Math.max(0, ms));
}
