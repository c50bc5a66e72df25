import type { SourceLocation } from "../core/location.ts";
import type { ObjRef } from "../core/objref.ts";

/** How bad a finding is; `error` fails validate and plan. Ordered so the worst wins. */
export const Severity = { Error: "error", Warning: "warning", Info: "info" } as const;
/** One of {@link Severity}. */
export type Severity = (typeof Severity)[keyof typeof Severity];

/** One thing Check found about one object (or one file). */
export interface Finding {
  readonly severity: Severity;
  /** A stable rule id, e.g. `structure.missing-name`, `schema`, `secret.plaintext`. */
  readonly rule: string;
  readonly message: string;
  readonly ref?: ObjRef;
  readonly location?: SourceLocation;
  /** The field the finding is about, e.g. `spec.template.spec.containers[0].image`. */
  readonly field?: string;
  readonly environment?: string;
  readonly stack?: string;
  /** What to do about it, when there is a known fix. */
  readonly hint?: string;
}

const rank: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Orders findings worst first, then by file and line. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    rank[a.severity] - rank[b.severity] ||
    (a.location?.file ?? "").localeCompare(b.location?.file ?? "") ||
    (a.location?.line ?? 0) - (b.location?.line ?? 0)
  );
}

/** True when any finding is an error. */
export function hasErrors(findings: readonly Finding[]): boolean {
  return findings.some((f) => f.severity === Severity.Error);
}
