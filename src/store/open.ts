import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { SqliteStoreOptions } from "./sqlite.ts";
import { openSqliteStore } from "./sqlite.ts";
import type { Store } from "./store.ts";

/** Where the state lives, as parsed from a state URL. */
export type StateLocation = { readonly kind: "sqlite"; readonly path: string };

const schemeUrl = /^([a-z][a-z0-9+.-]*):\/\//i;

/**
 * Parses a state URL: `sqlite:PATH` (also `sqlite://PATH`, and `sqlite:///abs/path`),
 * `sqlite::memory:`, or a bare path, all SQLite. `postgres://…` is refused until PostgreSQL
 * state exists. Messages never repeat the URL, which may hold a password.
 */
export function parseStateUrl(url: string): StateLocation {
  const text = url.trim();
  if (text === "") throw new GitwardError(ErrorCode.Config, "the state URL is empty", { hint: "use sqlite:PATH, e.g. sqlite:/var/lib/gitward/state.db" });
  if (/^sqlite:/i.test(text)) {
    const rest = text.slice("sqlite:".length);
    const path = rest.startsWith("//") ? rest.slice(2) : rest;
    if (path === "") throw new GitwardError(ErrorCode.Config, "the state URL sqlite: names no file", { hint: "use sqlite:PATH, e.g. sqlite:/var/lib/gitward/state.db" });
    return { kind: "sqlite", path };
  }
  const scheme = schemeUrl.exec(text)?.[1]?.toLowerCase();
  if (scheme === "postgres" || scheme === "postgresql") {
    throw new GitwardError(ErrorCode.Config, "PostgreSQL state is not implemented yet", {
      hint: "use sqlite:PATH (one file on the agent's disk) for now",
    });
  }
  if (scheme !== undefined) {
    throw new GitwardError(ErrorCode.Config, `unsupported state URL scheme "${scheme}"`, { hint: "use sqlite:PATH" });
  }
  return { kind: "sqlite", path: text };
}

/** Opens the store a state URL names (see {@link parseStateUrl}); `{ readOnly: true }` to read an existing one without creating it. */
export async function openStore(url: string, options: SqliteStoreOptions = {}): Promise<Store> {
  const where = parseStateUrl(url);
  return openSqliteStore(where.path, options);
}
