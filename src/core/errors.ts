import type { ObjRef } from "./objref.ts";
import { formatRef } from "./objref.ts";
import type { SourceLocation } from "./location.ts";
import { formatLocation } from "./location.ts";

/** The closed set of error codes gitward reports; each maps to an exit code in the CLI. */
export const ErrorCode = {
  /** gitward.yaml or a flag is invalid. */
  Config: "config",
  /** A Git operation failed: bad ref, unreachable remote, corrupt repository. */
  Git: "git",
  /** A commit's signature is missing or not trusted. */
  Signature: "signature",
  /** A limit (size, file count, path escape) was exceeded. */
  Limit: "limit",
  /** A manifest could not be parsed or rendered. */
  Render: "render",
  /** A variable used without a default is not defined. */
  Variable: "variable",
  /** A helper tool (kustomize, kubectl) is missing or failed. */
  Tool: "tool",
  /** A cluster could not be reached or answered with an error. */
  Cluster: "cluster",
  /** An unexpected failure inside gitward. */
  Internal: "internal",
} as const;
/** One of {@link ErrorCode}. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** What an error is about: an object, a place in a file, or both. */
export interface ErrorSubject {
  readonly ref?: ObjRef;
  readonly location?: SourceLocation;
  /** A key path inside a configuration file, e.g. `stacks.web.path`. */
  readonly keyPath?: string;
}

/** Options for {@link GitwardError}. */
export interface GitwardErrorOptions {
  readonly subject?: ErrorSubject;
  /** One line telling the user what to do about it. */
  readonly hint?: string;
  readonly cause?: unknown;
}

/**
 * The one error type gitward throws on purpose. Its message starts with the subject
 * (file:line, object) and ends with the cause, so it reads well on one line.
 */
export class GitwardError extends Error {
  readonly code: ErrorCode;
  readonly subject: ErrorSubject | undefined;
  readonly hint: string | undefined;
  readonly detail: string;

  constructor(code: ErrorCode, detail: string, options: GitwardErrorOptions = {}) {
    super(composeMessage(detail, options.subject, options.cause), { cause: options.cause });
    this.name = "GitwardError";
    this.code = code;
    this.detail = detail;
    this.subject = options.subject;
    this.hint = options.hint;
  }
}

/** Formats a subject as `file:line:col: Kind/ns/name: key.path`, leaving out what is absent. */
export function formatSubject(subject: ErrorSubject | undefined): string {
  if (subject === undefined) return "";
  const parts: string[] = [];
  if (subject.location !== undefined) parts.push(formatLocation(subject.location));
  if (subject.ref !== undefined) parts.push(formatRef(subject.ref));
  if (subject.keyPath !== undefined && subject.keyPath !== "") parts.push(subject.keyPath);
  return parts.join(": ");
}

function composeMessage(detail: string, subject: ErrorSubject | undefined, cause: unknown): string {
  const head = formatSubject(subject);
  const causeText = cause instanceof Error ? cause.message : typeof cause === "string" ? cause : "";
  // A cause that already says the detail ("cannot run git: ENOENT") replaces it.
  const text = causeText.startsWith(detail) ? causeText : detail;
  const base = head === "" ? text : `${head}: ${text}`;
  return causeText === "" || text.includes(causeText) ? base : `${base}: ${causeText}`;
}

/** True when the value is a {@link GitwardError}. */
export function isGitwardError(value: unknown): value is GitwardError {
  return value instanceof GitwardError;
}
