/**
 * Validation of what API clients send: query strings of the read endpoints and the body of a
 * manual sync. Pure; the HTTP layer answers 400 with the message, which names the parameter
 * and never echoes more than it must.
 */

/** Environment and stack names, as gitward.yaml allows them. */
const namePattern = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Control characters (C0, DEL, C1) and Unicode line separators and direction overrides, which can forge lines or hide text in logs and audit records. */
const unsafeText = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** A validated input, or why it is refused. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** The query of a read endpoint: each known key at most once. */
export function parseQuery<K extends string>(query: unknown, known: readonly K[]): Parsed<Partial<Record<K, string>>> {
  const out: Partial<Record<K, string>> = {};
  if (query === undefined || query === null) return { ok: true, value: out };
  if (typeof query !== "object") return { ok: false, error: "the query string cannot be read" };
  for (const [key, value] of Object.entries(query)) {
    if (!(known as readonly string[]).includes(key)) return { ok: false, error: `unknown query parameter ${JSON.stringify(key.slice(0, 40))}; this endpoint takes ${known.join(", ")}` };
    if (typeof value !== "string") return { ok: false, error: `query parameter ${key} is given more than once; give it once` };
    out[key as K] = value;
  }
  return { ok: true, value: out };
}

/** A query's `environment` and `stack`, which must be names. */
export function checkNames(values: { readonly environment?: string; readonly stack?: string }): string | undefined {
  for (const key of ["environment", "stack"] as const) {
    const v = values[key];
    if (v !== undefined && !namePattern.test(v)) return `${key} must be a lowercase DNS label (a-z, 0-9, '-'; at most 63)`;
  }
  return undefined;
}

/** The body of `POST /api/v1/sync`. */
export interface SyncRequest {
  readonly environment?: string;
  readonly stack?: string;
  /** Who the caller says asked; recorded as a claim, apart from the authenticated actor. */
  readonly claimedBy?: string;
  /** Sync past the approval gate, for this reason (audited). */
  readonly overrideApproval?: string;
}

/** Parses `{"environment": "dev", "stack": "web", "by": "alice"}`; every key optional. */
export function parseSyncRequest(raw: string): Parsed<SyncRequest> {
  let body: unknown;
  try {
    body = raw === "" ? {} : JSON.parse(raw);
  } catch {
    return { ok: false, error: "the body must be JSON: {\"environment\": \"dev\", \"stack\": \"web\"}" };
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) return { ok: false, error: "the body must be a JSON object" };
  const b = body as Record<string, unknown>;
  for (const key of ["environment", "stack", "by", "overrideApproval"]) {
    if (b[key] !== undefined && typeof b[key] !== "string") return { ok: false, error: `${key} must be a string` };
  }
  const environment = b["environment"] as string | undefined;
  const stack = b["stack"] as string | undefined;
  const names = checkNames({ ...(environment === undefined ? {} : { environment }), ...(stack === undefined ? {} : { stack }) });
  if (names !== undefined) return { ok: false, error: names };
  const by = b["by"] as string | undefined;
  if (by !== undefined && unsafeText.test(by)) return { ok: false, error: "by must not contain control characters or line separators" };
  if (by !== undefined && by.length > 200) return { ok: false, error: "by must be at most 200 characters" };
  const override = b["overrideApproval"] as string | undefined;
  if (override !== undefined && (override.trim().length < 3 || override.length > 500 || unsafeText.test(override))) {
    return { ok: false, error: "overrideApproval must be a reason of 3 to 500 characters, without control characters" };
  }
  return {
    ok: true,
    value: {
      ...(environment === undefined ? {} : { environment }), ...(stack === undefined ? {} : { stack }),
      ...(by === undefined || by.trim() === "" ? {} : { claimedBy: by }),
      ...(override === undefined ? {} : { overrideApproval: override.trim() }),
    },
  };
}
