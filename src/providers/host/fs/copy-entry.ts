import { constants } from "node:fs";
import { chmod, chown, copyFile, lchown, readlink, symlink } from "node:fs/promises";
import { tempPathFor } from "./atomic.ts";
import { fsc } from "./fs-calls.ts";
import type { Before } from "./journal.ts";

/**
 * Copies a file or symlink to `to` with the mode and owner it had (`before`), through a
 * temporary file beside `to`, for where a hard link or a rename cannot cross a mount point
 * inside the root. Special files are not copied: the EXDEV that led here is rethrown.
 */
export async function copyEntry(from: string, to: string, before: Before, cause: unknown): Promise<void> {
  if (before.type !== "file" && before.type !== "symlink") throw cause;
  const tmp = tempPathFor(to);
  try {
    if (before.type === "symlink") {
      await symlink(await readlink(from), tmp);
      await lchown(tmp, before.uid, before.gid);
    } else {
      await copyFile(from, tmp, constants.COPYFILE_FICLONE);
      await chown(tmp, before.uid, before.gid);
      await chmod(tmp, before.mode);
    }
    await fsc.rename(tmp, to);
  } catch (e: unknown) {
    await fsc.unlink(tmp).catch(() => undefined);
    throw e;
  }
}
