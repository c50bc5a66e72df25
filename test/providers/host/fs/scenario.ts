import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Operation } from "../../../../src/providers/host/fs/transaction.ts";

/** How many existing files the scenario overwrites, and how many it creates in new directories. */
const overwritten = 200;
const created = 300;
const inMade = 50;

/**
 * A root as a sync finds it: files to replace (different modes), to remove (a file, a
 * symlink, a directory's content and the directory), a directory whose mode changes, a file
 * already as desired, and an unmanaged file nobody touches.
 */
export function seedTree(root: string): void {
  mkdirSync(join(root, "keep"), { mode: 0o755 });
  writeFileSync(join(root, "keep/a.conf"), "old a\n", { mode: 0o644 });
  writeFileSync(join(root, "keep/b.conf"), "old b\n", { mode: 0o640 });
  chmodSync(join(root, "keep/b.conf"), 0o640);
  symlinkSync("a.conf", join(root, "keep/link"));
  mkdirSync(join(root, "olddir"), { mode: 0o750 });
  chmodSync(join(root, "olddir"), 0o750);
  writeFileSync(join(root, "olddir/x.txt"), "x\n");
  mkdirSync(join(root, "perms"), { mode: 0o700 });
  chmodSync(join(root, "perms"), 0o700);
  writeFileSync(join(root, "same.conf"), "same\n", { mode: 0o644 });
  writeFileSync(join(root, "unmanaged.txt"), "not gitward's\n");
  mkdirSync(join(root, "many"));
  for (let i = 0; i < overwritten; i++) writeFileSync(join(root, `many/f${i}.conf`), `old ${i}\n`, { mode: 0o644 });
}

/** The scenario's operations, in the order a sync plans them: mkdirs, writes, removes, rmdirs. */
export function scenarioOps(): Operation[] {
  const ops: Operation[] = [
    { op: "mkdir", path: "perms", mode: 0o755 },
    { op: "mkdir", path: "made", mode: 0o751 },
    { op: "write", path: "keep/a.conf", content: Buffer.from("new a\n"), mode: 0o600 },
    { op: "write", path: "same.conf", content: Buffer.from("same\n"), mode: 0o644 },
  ];
  for (let i = 0; i < overwritten; i++) ops.push({ op: "write", path: `many/f${i}.conf`, content: Buffer.from(`new ${i}\n`), mode: 0o640 });
  for (let i = 0; i < created; i++) ops.push({ op: "write", path: `new/deep/n${i}.conf`, content: Buffer.from(`n ${i}\n`), mode: 0o644 });
  for (let i = 0; i < inMade; i++) ops.push({ op: "write", path: `made/m${i}.conf`, content: Buffer.from(`m ${i}\n`), mode: 0o644 });
  ops.push({ op: "remove", path: "keep/b.conf" }, { op: "remove", path: "keep/link" }, { op: "remove", path: "olddir/x.txt" });
  ops.push({ op: "rmdir", path: "olddir" });
  return ops;
}
