import { constants } from "node:fs";
import { chmod, mkdir, open, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { stateError } from "../store-error.ts";

/** The companion files SQLite keeps next to a database in WAL mode. */
const companions = ["-wal", "-shm"] as const;

/**
 * Makes the state file ready to be opened for writing, private to its user: a missing directory
 * is created 0700, a missing file 0600 (SQLite gives its -wal and -shm the database's mode), and
 * an existing database or companion readable by others is narrowed to 0600. History holds
 * revisions, errors and command output; only the agent's user should read it.
 */
export async function preparePrivateFile(path: string, location: string): Promise<void> {
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  } catch (e: unknown) {
    throw stateError(location, "cannot create its directory", { cause: e, hint: "check that the parent directory exists and is writable by the agent" });
  }
  try {
    const handle = await open(path, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
    await handle.close();
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw stateError(location, "cannot be created", { cause: e, hint: "check that its directory is writable by the agent" });
  }
  for (const file of [path, ...companions.map((c) => `${path}${c}`)]) await narrow(file);
}

/** Narrows a file readable or writable by others to 0600; a file that is missing or not the user's is left to the open to report. */
async function narrow(file: string): Promise<void> {
  try {
    const s = await stat(file);
    if ((s.mode & 0o077) !== 0 && s.uid === process.getuid?.()) await chmod(file, s.mode & 0o700);
  } catch {
    // Missing (no -wal yet) or not ours: nothing to narrow.
  }
}

/** Refuses to read a state file that does not exist, instead of creating an empty one. */
export async function requireExistingFile(path: string, location: string): Promise<void> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw stateError(location, "is not a file", { hint: "--state names the agent's state file: sqlite:PATH" });
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw stateError(location, "does not exist", { hint: "check the path: the agent (or gitward apply --state) creates the file; a reading command never does" });
    }
    if (e instanceof Error && e.name === "GitwardError") throw e;
    throw stateError(location, "cannot be read", { cause: e });
  }
}
