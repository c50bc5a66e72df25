/**
 * Opaque cursors of the paginated lists. A cursor carries the list it belongs to and the last
 * key of the page it ends, base64url-encoded, so clients treat it as a token and a cursor of one
 * list is refused by another (400), never silently misread.
 */
import { httpError } from "./errors.ts";

/** The lists that page, each with its own cursor prefix. */
export type CursorList = "history" | "drift" | "audit";

const prefixes: Readonly<Record<CursorList, string>> = { history: "h", drift: "d", audit: "a" };

/** The cursor after `key` in `list`. */
export function encodeCursor(list: CursorList, key: string): string {
  return Buffer.from(`${prefixes[list]}:${key}`, "utf8").toString("base64url");
}

/** The key a cursor of `list` holds; a 400 naming `cursor` when it is not one this list gave. */
export function decodeCursor(list: CursorList, cursor: string): string {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const m = /^([a-z]):([1-9][0-9]{0,15})$/.exec(text);
  if (m?.[1] !== prefixes[list] || m[2] === undefined) throw httpError(400, "bad_request", `query parameter cursor: not a cursor of this list; pass the next value the ${list} list returned`);
  return m[2];
}

/**
 * A page from `limit + 1` rows: the first `limit`, and the cursor after the last of them when
 * more rows exist (so the last page says null instead of leading to an empty one).
 */
export function page<T>(rows: readonly T[], limit: number, list: CursorList, key: (row: T) => string): { items: T[]; next: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next: rows.length > limit && last !== undefined ? encodeCursor(list, key(last)) : null };
}
