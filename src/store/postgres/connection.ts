import { readFile, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { ErrorCode, GitwardError } from "../../core/errors.ts";

/**
 * Where a PostgreSQL state store connects, resolved as libpq does: the URL first, then the
 * environment (`PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`, `PGPASSWORD`), then the password file
 * (`PGPASSFILE`, else `~/.pgpass`). The password stays in this object: {@link describeTarget}
 * and every message name host, port, database and user only.
 */
export interface PostgresTarget {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** Undefined when neither the URL, PGPASSWORD nor the password file has one (trust or peer auth). */
  readonly password: string | undefined;
  /** `sslmode` from the URL or PGSSLMODE, when set. */
  readonly sslmode: string | undefined;
}

/** The environment the settings are read from; `process.env` by default, a plain object in tests. */
export type Env = Readonly<Record<string, string | undefined>>;

const badUrl = (detail: string): GitwardError =>
  new GitwardError(ErrorCode.Config, `the PostgreSQL state URL ${detail}`, { hint: "use postgres://USER@HOST:PORT/DATABASE (the password in PGPASSWORD or ~/.pgpass)" });

/** Parses a `postgres://` or `postgresql://` URL and fills the gaps from the environment and the password file. */
export async function resolveTarget(url: string, env: Env = process.env): Promise<PostgresTarget> {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    // The URL is not repeated: it may hold a password.
    throw badUrl("cannot be parsed");
  }
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") throw badUrl("does not start with postgres:// or postgresql://");
  const param = (name: string): string | undefined => u.searchParams.get(name) ?? undefined;
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw badUrl("has a malformed %-escape");
    }
  };
  const host = nonEmpty(param("host")) ?? nonEmpty(decode(u.hostname).replace(/^\[(.*)\]$/, "$1")) ?? nonEmpty(env["PGHOST"]) ?? "localhost";
  const portText = nonEmpty(param("port")) ?? nonEmpty(u.port) ?? nonEmpty(env["PGPORT"]) ?? "5432";
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw badUrl(`has port "${portText.slice(0, 10)}", not a number from 1 to 65535`);
  const user = nonEmpty(param("user")) ?? nonEmpty(decode(u.username)) ?? nonEmpty(env["PGUSER"]) ?? nonEmpty(env["USER"]) ?? "postgres";
  const database = nonEmpty(param("dbname")) ?? nonEmpty(decode(u.pathname.replace(/^\//, ""))) ?? nonEmpty(env["PGDATABASE"]) ?? user;
  const password = nonEmpty(param("password")) ?? nonEmpty(decode(u.password)) ?? nonEmpty(env["PGPASSWORD"])
    ?? await passwordFromFile({ host, port, database, user }, env);
  return { host, port, database, user, password, sslmode: nonEmpty(param("sslmode")) ?? nonEmpty(env["PGSSLMODE"]) };
}

/** The store's location for messages and `Store.location`: `postgres://user@host:port/database`, never a password. */
export function describeTarget(t: Pick<PostgresTarget, "host" | "port" | "database" | "user">): string {
  const host = t.host.includes(":") ? `[${t.host}]` : t.host;
  return `postgres://${encodeURIComponent(t.user)}@${host}:${t.port}/${encodeURIComponent(t.database)}`;
}

function nonEmpty(s: string | undefined | null): string | undefined {
  return s === undefined || s === null || s === "" ? undefined : s;
}

/**
 * The password for a connection from a libpq password file (`hostname:port:database:username:password`
 * lines, `*` matching anything, `\` escaping `:` and `\`). Like libpq, a file others can read is
 * ignored, and a missing file is no error.
 */
export async function passwordFromFile(t: Pick<PostgresTarget, "host" | "port" | "database" | "user">, env: Env = process.env): Promise<string | undefined> {
  const file = nonEmpty(env["PGPASSFILE"]) ?? join(nonEmpty(env["HOME"]) ?? homedir(), ".pgpass");
  let text: string;
  try {
    const s = await stat(file);
    if (!s.isFile() || (s.mode & 0o077) !== 0) return undefined;
    text = await readFile(file, "utf8");
  } catch {
    return undefined;
  }
  const wanted = [t.host, String(t.port), t.database, t.user];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const fields = splitPgpassLine(line);
    if (fields.length < 5) continue;
    const matches = wanted.every((w, i) => fields[i] === "*" || fields[i] === w || (i === 0 && fields[i] === "localhost" && w.startsWith("/")));
    if (matches) return fields.slice(4).join(":");
  }
  return undefined;
}

/** Splits a password-file line on unescaped colons, removing the escapes. */
function splitPgpassLine(line: string): string[] {
  const out: string[] = [];
  let field = "";
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === "\\" && i + 1 < line.length) {
      field += line[++i];
    } else if (ch === ":" && out.length < 4) {
      out.push(field);
      field = "";
    } else {
      field += ch;
    }
  }
  out.push(field);
  return out;
}
