import { badRequest } from "./errors.ts";

/** Where a paged list resumes: the snapshot resourceVersion and the first key not yet served. */
export interface ContinueToken {
  readonly resourceVersion: number;
  /** Keys are `name` within one namespace or cluster-scoped, `namespace/name` across namespaces. */
  readonly start: string;
}

/**
 * Encodes a continue token as the API server does: unpadded base64url of
 * `{"v":"meta.k8s.io/v1","rv":N,"start":"<last key>\u0000"}`.
 */
export function encodeContinue(resourceVersion: number, lastKey: string): string {
  const json = JSON.stringify({ v: "meta.k8s.io/v1", rv: resourceVersion, start: `${lastKey}\u0000` });
  return Buffer.from(json, "utf8").toString("base64url");
}

/** Decodes a continue token; a bad one is a 400 "invalid continue token: ...". */
export function decodeContinue(token: string): ContinueToken {
  const fail = (why: string) => badRequest(`invalid continue token: continue key is not valid: ${why}`);
  const bad = token.search(/[^A-Za-z0-9_-]/);
  if (bad >= 0) throw fail(`illegal base64 data at input byte ${bad}`);
  if (token.length % 4 === 1) throw fail(`illegal base64 data at input byte ${token.length - 1}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch (err: unknown) {
    throw fail(err instanceof Error ? err.message : String(err));
  }
  const p = parsed as { v?: unknown; rv?: unknown; start?: unknown };
  if (p.v !== "meta.k8s.io/v1") throw fail("incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
  if (typeof p.rv !== "number" || typeof p.start !== "string") throw fail("incorrect encoded start resourceVersion");
  return { resourceVersion: p.rv, start: p.start.endsWith("\u0000") ? p.start.slice(0, -1) : p.start };
}

/** One page of a list: its items, and what the list metadata says about the rest. */
export interface Page<T> {
  readonly items: T[];
  readonly continueToken?: string;
  readonly remainingItemCount?: number;
}

/**
 * Cuts a sorted list into a page after the token's key. `remainingItemCount` is only known
 * without selectors (the API server cannot count filtered items it has not read).
 */
export function paginate<T>(
  items: readonly { readonly key: string; readonly item: T }[],
  opts: { limit: number | undefined; token: ContinueToken | undefined; resourceVersion: number; filtered: boolean },
): Page<T> {
  const after = opts.token === undefined ? items : items.filter((i) => i.key > opts.token!.start);
  if (opts.limit === undefined || opts.limit <= 0 || after.length <= opts.limit) return { items: after.map((i) => i.item) };
  const page = after.slice(0, opts.limit);
  const last = page.at(-1);
  return {
    items: page.map((i) => i.item),
    continueToken: encodeContinue(opts.resourceVersion, last?.key ?? ""),
    ...(opts.filtered ? {} : { remainingItemCount: after.length - page.length }),
  };
}
