import { readFile } from "node:fs/promises";
import { ErrorCode, GitwardError } from "../../../core/errors.ts";
import { ioError } from "./io-error.ts";

/** Where names are looked up; tests point these at fixtures. */
export interface OwnerFiles {
  /** Default `/etc/passwd`. */
  readonly passwd?: string;
  /** Default `/etc/group`. */
  readonly group?: string;
}

/** Resolves user and group names to ids, reading each database file at most once. */
export interface OwnerResolver {
  /** The uid of a user name or numeric id. */
  user(name: string | number): Promise<number>;
  /** The gid of a group name or numeric id. */
  group(name: string | number): Promise<number>;
}

const maxId = 0xfffffffe;

type Kind = "user" | "group";

function numericId(kind: Kind, name: string | number): number | undefined {
  const text = String(name);
  if (typeof name === "number" || /^\d+$/.test(text)) {
    const id = Number(text);
    if (!Number.isSafeInteger(id) || id < 0 || id > maxId) throw new GitwardError(ErrorCode.Config, `${kind} id ${text} is out of range`);
    return id;
  }
  if (text === "" || /[:\n]/.test(text)) throw new GitwardError(ErrorCode.Config, `${kind} name ${JSON.stringify(text)} is not valid`);
  return undefined;
}

/** Parses `/etc/passwd` or `/etc/group` lines (`name:x:id:…`) into a name → id map. */
export function parseIdDatabase(text: string): Map<string, number> {
  const ids = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const [name, , id] = line.split(":");
    if (name === undefined || id === undefined || !/^\d+$/.test(id)) continue;
    // The first entry wins, as getpwnam does.
    if (!ids.has(name)) ids.set(name, Number(id));
  }
  return ids;
}

async function loadDatabase(file: string): Promise<Map<string, number>> {
  try {
    return parseIdDatabase(await readFile(file, "utf8"));
  } catch (e: unknown) {
    throw ioError(file, "read", e);
  }
}

function lookup(kind: Kind, file: string, ids: ReadonlyMap<string, number>, name: string): number {
  const id = ids.get(name);
  if (id !== undefined) return id;
  throw new GitwardError(ErrorCode.Config, `${kind} ${JSON.stringify(name)} does not exist on this machine (not in ${file})`, {
    hint: `create the ${kind}, or give a numeric ${kind === "user" ? "uid" : "gid"}`,
  });
}

/**
 * An {@link OwnerResolver} for one sync. Numeric ids and numeric strings pass through; names
 * are looked up in the files only (not LDAP or other NSS sources).
 */
export function createOwnerResolver(files: OwnerFiles = {}): OwnerResolver {
  const passwd = files.passwd ?? "/etc/passwd";
  const group = files.group ?? "/etc/group";
  const loaded = new Map<Kind, Promise<Map<string, number>>>();
  const resolve = async (kind: Kind, file: string, name: string | number): Promise<number> => {
    const id = numericId(kind, name);
    if (id !== undefined) return id;
    let db = loaded.get(kind);
    if (db === undefined) {
      db = loadDatabase(file);
      loaded.set(kind, db);
    }
    return lookup(kind, file, await db, String(name));
  };
  return {
    user: (name) => resolve("user", passwd, name),
    group: (name) => resolve("group", group, name),
  };
}

/** The uid of a user name or numeric id; an unknown name is a GitwardError(Config) naming it. */
export async function resolveUser(name: string | number, files: OwnerFiles = {}): Promise<number> {
  return createOwnerResolver(files).user(name);
}

/** The gid of a group name or numeric id; an unknown name is a GitwardError(Config) naming it. */
export async function resolveGroup(name: string | number, files: OwnerFiles = {}): Promise<number> {
  return createOwnerResolver(files).group(name);
}
