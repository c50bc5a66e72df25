import { ErrorCode, GitwardError } from "./errors.ts";

/** Parses `90s`, `5m`, `1h30m`, `500ms` or a bare number of seconds into milliseconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = trimmed;
  while (rest !== "") {
    const m = /^(\d+)(ms|s|m|h)/.exec(rest);
    if (m === null) throw new GitwardError(ErrorCode.Config, `invalid duration "${text}"`, { hint: "use e.g. 90s, 5m or 1h30m" });
    total += Number(m[1]) * (units[m[2] ?? "s"] ?? 1000);
    rest = rest.slice(m[0].length);
  }
  return total;
}

/** True when {@link parseDuration} accepts the text. */
export function isDuration(text: string): boolean {
  return /^\s*(\d+|(\d+(ms|s|m|h))+)\s*$/.test(text);
}
