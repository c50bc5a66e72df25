import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { PostgresStoreOptions } from "./postgres.ts";
import type { SqliteStoreOptions } from "./sqlite.ts";
import { openSqliteStore } from "./sqlite.ts";
import type { Store } from "./store.ts";

/** Where the state lives, as parsed from a state URL. */
export type StateLocation =
  | { readonly kind: "sqlite"; readonly path: string }
  /** `url` is the URL as given (it may hold a password): never put it in a message. */
  | { readonly kind: "postgres"; readonly url: string };

const schemeUrl = /^([a-z][a-z0-9+.-]*):\/\//i;
const hint = "use sqlite:PATH (one file on the agent's disk) or postgres://USER@HOST:PORT/DATABASE";

/**
 * Parses a state URL: `sqlite:PATH` (also `sqlite://PATH`, and `sqlite:///abs/path`),
 * `sqlite::memory:`, or a bare path, all SQLite; `postgres://…` or `postgresql://…`, PostgreSQL.
 * Messages never repeat the URL, which may hold a password.
 */
export function parseStateUrl(url: string): StateLocation {
  const text = url.trim();
  if (text === "") throw new GitwardError(ErrorCode.Config, "the state URL is empty", { hint });
  if (/^sqlite:/i.test(text)) {
    const rest = text.slice("sqlite:".length);
    const path = rest.startsWith("//") ? rest.slice(2) : rest;
    if (path === "") throw new GitwardError(ErrorCode.Config, "the state URL sqlite: names no file", { hint: "use sqlite:PATH, e.g. sqlite:/var/lib/gitward/state.db" });
    return { kind: "sqlite", path };
  }
  const scheme = schemeUrl.exec(text)?.[1]?.toLowerCase();
  if (scheme === "postgres" || scheme === "postgresql") return { kind: "postgres", url: text };
  if (scheme !== undefined) throw new GitwardError(ErrorCode.Config, `unsupported state URL scheme "${scheme}"`, { hint });
  return { kind: "sqlite", path: text };
}

/** Options of {@link openStore}: those of either store; each takes what applies to it. */
export type OpenStoreOptions = SqliteStoreOptions & PostgresStoreOptions;

/** Opens the store a state URL names (see {@link parseStateUrl}); `{ readOnly: true }` to read an existing one without creating or migrating it. */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const where = parseStateUrl(url);
  if (where.kind === "postgres") {
    // Loaded only when used, so SQLite users never load the pg driver.
    const { openPostgresStore } = await import("./postgres.ts");
    return openPostgresStore(where.url, options);
  }
  return openSqliteStore(where.path, options);
}
