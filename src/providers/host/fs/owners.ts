import { ProcessRunner, type CommandRunner } from "../../../core/command-runner.ts";
import { ErrorCode, GitwardError } from "../../../core/errors.ts";
import { getentId, maxId } from "./getent.ts";
import { IdFile } from "./id-files.ts";

export { parseIdDatabase } from "./id-files.ts";

/** Database files to read instead of asking NSS; tests point these at fixtures. */
export interface OwnerFiles {
  /** Default `/etc/passwd`. */
  readonly passwd?: string;
  /** Default `/etc/group`. */
  readonly group?: string;
}

/** Options of {@link createOwnerResolver}. */
export interface OwnerResolverOptions extends OwnerFiles {
  /** Runs `getent`; default a {@link ProcessRunner}. */
  readonly runner?: CommandRunner;
  /** How long one `getent` may take; default 10 000 ms. */
  readonly timeoutMs?: number;
}

/** Resolves user and group names to ids, remembering each id it found. */
export interface OwnerResolver {
  /** The uid of a user name or numeric id. */
  user(name: string | number): Promise<number>;
  /** The gid of a group name or numeric id. */
  group(name: string | number): Promise<number>;
}

type Kind = "user" | "group";

/** Where names are looked up: the id, or where the name was not found (for the message). */
type Lookup = (kind: Kind, name: string) => Promise<number | { readonly notIn: string }>;

function numericId(kind: Kind, name: string | number): number | undefined {
  const text = String(name);
  if (typeof name === "number" || /^\d+$/.test(text)) {
    const id = Number(text);
    if (!Number.isSafeInteger(id) || id < 0 || id > maxId) throw new GitwardError(ErrorCode.Config, `${kind} id ${text} is out of range`);
    return id;
  }
  // A leading "-" would be an option to getent; `:` and newlines cannot be in an entry.
  if (text === "" || /[:\n\0]/.test(text) || text.startsWith("-")) throw new GitwardError(ErrorCode.Config, `${kind} name ${JSON.stringify(text)} is not valid`);
  return undefined;
}

/** Looks names up in the given files only. */
function fileLookup(files: OwnerFiles): Lookup {
  const dbs = { user: new IdFile(files.passwd ?? "/etc/passwd"), group: new IdFile(files.group ?? "/etc/group") };
  return async (kind, name) => (await dbs[kind].lookup(name)) ?? { notIn: `not in ${dbs[kind].path}` };
}

/** Looks names up through getent (every NSS source); where getent is not installed, in /etc/passwd and /etc/group as before. */
function nssLookup(runner: CommandRunner, timeoutMs: number): Lookup {
  let files: Lookup | undefined;
  return async (kind, name) => {
    if (files !== undefined) return files(kind, name);
    const database = kind === "user" ? "passwd" : "group";
    const answer = await getentId(runner, database, name, timeoutMs);
    if (answer === "unavailable") {
      files = fileLookup({});
      return files(kind, name);
    }
    return answer === "no-entry" ? { notIn: `getent ${database} found no entry` } : answer.id;
  };
}

/**
 * An {@link OwnerResolver}, one per session. Numeric ids and numeric strings pass through
 * without a lookup. Names are asked of the machine's name services through `getent`, so users
 * from LDAP or SSSD resolve as they do for `ls` and `chown`; naming a database file instead
 * looks names up in the files only. Each id found is remembered for the resolver's life; a
 * name that was not found is asked again next time (it may have been created meanwhile).
 */
export function createOwnerResolver(options: OwnerResolverOptions = {}): OwnerResolver {
  const lookup = options.passwd !== undefined || options.group !== undefined
    ? fileLookup(options)
    : nssLookup(options.runner ?? new ProcessRunner(), options.timeoutMs ?? 10_000);
  const found = new Map<string, Promise<number>>();
  // A failed lookup forgets itself; it settles only after `resolve` stored it, past its first await.
  const ask = async (kind: Kind, name: string, key: string): Promise<number> => {
    try {
      const r = await lookup(kind, name);
      if (typeof r === "number") return r;
      throw unknownName(kind, name, r.notIn);
    } catch (e: unknown) {
      found.delete(key);
      throw e;
    }
  };
  const resolve = (kind: Kind, name: string | number): Promise<number> => {
    const id = numericId(kind, name);
    if (id !== undefined) return Promise.resolve(id);
    const text = String(name);
    const key = `${kind}:${text}`;
    let pending = found.get(key);
    if (pending === undefined) {
      pending = ask(kind, text, key);
      found.set(key, pending);
    }
    return pending;
  };
  return {
    user: async (name) => resolve("user", name),
    group: async (name) => resolve("group", name),
  };
}

function unknownName(kind: Kind, name: string, notIn: string): GitwardError {
  return new GitwardError(ErrorCode.Config, `${kind} ${JSON.stringify(name)} does not exist on this machine (${notIn})`, {
    hint: `create the ${kind}, or give a numeric ${kind === "user" ? "uid" : "gid"}`,
  });
}

/** The uid of a user name or numeric id; an unknown name is a GitwardError(Config) naming it. */
export async function resolveUser(name: string | number, options: OwnerResolverOptions = {}): Promise<number> {
  return createOwnerResolver(options).user(name);
}

/** The gid of a group name or numeric id; an unknown name is a GitwardError(Config) naming it. */
export async function resolveGroup(name: string | number, options: OwnerResolverOptions = {}): Promise<number> {
  return createOwnerResolver(options).group(name);
}
