/**
 * Drift in words: "spec.replicas changed by kubectl-scale at 12:03". Pure, with the clock and
 * time zone passed in so the same sentence is built in tests and in the browser.
 */
import type { DriftField, DriftRow } from "./types.ts";

/** How to write times: the reference "now" (to decide whether a date is needed) and a time zone. */
export interface TimeStyle {
  readonly now: Date;
  /** An IANA zone; default the browser's. */
  readonly timeZone?: string;
}

function parts(d: Date, timeZone: string | undefined): { date: string; time: string } {
  const zone = timeZone === undefined ? {} : { timeZone };
  const date = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", ...zone }).format(d);
  const time = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", ...zone }).format(d);
  return { date, time };
}

/** "at 12:03" on the same day as `now`, else "on 2025-03-02 at 12:03"; undefined for an unreadable time. */
export function atTime(iso: string, style: TimeStyle): string | undefined {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return undefined;
  const when = parts(d, style.timeZone);
  const today = parts(style.now, style.timeZone);
  return when.date === today.date ? `at ${when.time}` : `on ${when.date} at ${when.time}`;
}

/** One changed field as a sentence fragment: who changed it and when, when known. */
export function driftSentence(field: DriftField, style: TimeStyle): string {
  const who = field.manager === undefined || field.manager === "" ? "outside gitward" : `by ${field.manager}`;
  const when = field.time === undefined ? undefined : atTime(field.time, style);
  return `${field.field} changed ${who}${when === undefined ? "" : ` ${when}`}`;
}

/** Every sentence of a drift row; an object drifted without field detail says so. */
export function driftSentences(row: Pick<DriftRow, "fields" | "detectedAt">, style: TimeStyle): string[] {
  if (row.fields.length === 0) {
    const when = atTime(row.detectedAt, style);
    return [`changed outside gitward${when === undefined ? "" : ` (found ${when})`}`];
  }
  return row.fields.map((f) => driftSentence(f, style));
}
