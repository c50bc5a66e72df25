/**
 * Small pure formatters the pages share: durations, times, approvers, and the words and
 * icons that go with every colour (colour is never the only signal).
 */

/** "850 ms", "4.2 s", "3 min 5 s", "1 h 2 min"; "-" when unknown. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return "-";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A time for tables: `2025-03-02 12:03:04` in the browser's zone (or `timeZone`); the raw text when unreadable. */
export function formatTime(iso: string | undefined, timeZone?: string): string {
  if (iso === undefined) return "-";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat("sv-SE", {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
    ...(timeZone === undefined ? {} : { timeZone }),
  }).format(d);
}

/** Approvals read from a sync's trigger detail (`…; approved: #42 by alice, bob; !7 by carol`). */
export interface Approval {
  /** The pull or merge request: `#42`, `!7`. */
  readonly ref: string;
  readonly approvers: readonly string[];
}

/** The approvals a trigger detail records; empty when it records none. */
export function approvalsFromDetail(detail: string | undefined): Approval[] {
  if (detail === undefined) return [];
  const at = detail.indexOf("approved: ");
  if (at < 0) return [];
  return detail.slice(at + "approved: ".length).split(";").flatMap((part) => {
    const m = /^\s*(\S+) by (.+?)\s*$/.exec(part);
    if (m === null || m[1] === undefined || m[2] === undefined) return [];
    return [{ ref: m[1], approvers: m[2].split(",").map((a) => a.trim()).filter((a) => a !== "") }];
  });
}

/** The trigger detail without its approvals part (shown separately). */
export function detailWithoutApprovals(detail: string | undefined): string | undefined {
  if (detail === undefined) return undefined;
  const at = detail.indexOf("approved: ");
  const rest = (at < 0 ? detail : detail.slice(0, at)).replace(/[;\s]+$/, "");
  return rest === "" ? undefined : rest;
}

/** A tone: the colour family of a state. Always shown with a word and an icon. */
export type Tone = "ok" | "warn" | "bad" | "busy" | "idle";

/** The icon, word and tone of a state. */
export interface Badge {
  readonly icon: string;
  readonly text: string;
  readonly tone: Tone;
}

const badges: Readonly<Record<string, Badge>> = {
  "sync:in-sync": { icon: "✓", text: "in sync", tone: "ok" },
  "sync:out-of-sync": { icon: "↻", text: "out of sync", tone: "warn" },
  "sync:never": { icon: "○", text: "never synced", tone: "idle" },
  "sync:queued": { icon: "…", text: "queued", tone: "busy" },
  "outcome:running": { icon: "…", text: "running", tone: "busy" },
  "outcome:succeeded": { icon: "✓", text: "succeeded", tone: "ok" },
  "outcome:failed": { icon: "✗", text: "failed", tone: "bad" },
  "outcome:skipped": { icon: "–", text: "skipped", tone: "idle" },
  "outcome:cancelled": { icon: "■", text: "cancelled", tone: "warn" },
  "outcome:interrupted": { icon: "!", text: "interrupted", tone: "bad" },
  "health:healthy": { icon: "♥", text: "healthy", tone: "ok" },
  "health:progressing": { icon: "◔", text: "progressing", tone: "busy" },
  "health:degraded": { icon: "✗", text: "degraded", tone: "bad" },
  "health:timed-out": { icon: "⌛", text: "timed out", tone: "bad" },
  "health:missing": { icon: "?", text: "missing", tone: "bad" },
  "health:unknown": { icon: "?", text: "unknown", tone: "idle" },
  "gate:open": { icon: "▶", text: "gate open", tone: "ok" },
  "gate:held": { icon: "⏸", text: "held", tone: "warn" },
  "gate:refused": { icon: "⛔", text: "refused", tone: "bad" },
  "gate:overridden": { icon: "⚠", text: "overridden", tone: "warn" },
  "action:create": { icon: "+", text: "create", tone: "ok" },
  "action:update": { icon: "~", text: "update", tone: "warn" },
  "action:delete": { icon: "−", text: "delete", tone: "bad" },
  "action:no-op": { icon: "=", text: "no change", tone: "idle" },
};

/** The badge of `kind:value` (e.g. `health:degraded`); an unknown value is shown as itself. */
export function badgeOf(kind: string, value: string): Badge {
  return badges[`${kind}:${value}`] ?? { icon: "•", text: value, tone: "idle" };
}
