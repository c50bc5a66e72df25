import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { DesiredObject, Inventory, StackRef, TransactOptions } from "../../../src/providers/provider.ts";
import { hostProvider } from "../../../src/providers/host/provider.ts";
import type { HostSession } from "../../../src/providers/host/session.ts";

// A path no desired object holds any more: an object Git dropped, or the previous path of an
// object whose spec.path changed while its name (its ref) stayed the same.

const stack: StackRef = { environment: "dev", stack: "web" };
const apiVersion = "host.gitward.dev/v1alpha1";
const prune: TransactOptions = { stack, dryRun: false, force: false, prune: true };
const keep: TransactOptions = { ...prune, prune: false };

function file(name: string, path: string, content: string): DesiredObject {
  return { ref: { group: "host.gitward.dev", kind: "File", name }, apiVersion, object: { apiVersion, kind: "File", metadata: { name }, spec: { path, content } } };
}

function directory(name: string, path: string): DesiredObject {
  return { ref: { group: "host.gitward.dev", kind: "Directory", name }, apiVersion, object: { apiVersion, kind: "Directory", metadata: { name }, spec: { path } } };
}

const inventoryOf = (desired: readonly DesiredObject[]): Inventory => ({
  stack, revision: "r1", syncs: [], entries: desired.map((d) => ({ ref: d.ref, apiVersion: d.apiVersion })),
});

describe("host session: paths no desired object holds", () => {
  let root: string;
  let s: HostSession;
  const registered = (): string[] => Object.keys((JSON.parse(readFileSync(join(root, ".gitward/paths.json"), "utf8")) as { paths: object }).paths);
  // Each change with the paths its diff removes (`- path`).
  const show = (entries: readonly { ref: { name: string }; action: string; diff?: string }[]): string[] =>
    entries.filter((e) => e.action !== "no-op").map((e) => {
      const gone = (e.diff ?? "").split("\n").filter((l) => l.startsWith("- "));
      return `${e.ref.name} ${e.action}${gone.length === 0 ? "" : `: ${gone.join(" | ")}`}`;
    });

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), "gitward-host-orphans-"));
    mkdirSync(join(root, "conf.d"));
    s = (await hostProvider().open("edge", { provider: "host", root }, {})) as HostSession;
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("a renamed File: diff shows the previous path going, and apply with prune removes it", async () => {
    const before = [file("site", "conf.d/old.conf", "server {}\n")];
    await s.transact(before, [], prune);
    const after = [file("site", "conf.d/new.conf", "server {}\n")];
    const d = await s.diff(after, { inventory: inventoryOf(before) });
    assert.deepEqual(show(d.entries), ["site create", "site delete: - conf.d/old.conf (previous path of File/site, now conf.d/new.conf)"]);
    assert.equal(d.entries.find((e) => e.action === "create")?.drift, undefined, "a new path is not drift");
    const r = await s.transact(after, [], prune);
    assert.deepEqual(r.entries.map((e) => `${e.ref.name} ${e.action}`), ["site created"]);
    assert.equal(existsSync(join(root, "conf.d/old.conf")), false, "the old site is gone");
    assert.equal(readFileSync(join(root, "conf.d/new.conf"), "utf8"), "server {}\n");
    assert.deepEqual(registered(), ["conf.d/new.conf"]);
    assert.deepEqual(show((await s.diff(after, { inventory: inventoryOf(after) })).entries), [], "no changes left");
  });

  it("without prune the previous path stays, still owned and reported, and a later prune removes it", async () => {
    const before = [file("site", "old.conf", "x\n")];
    await s.transact(before, [], prune);
    const after = [file("site", "new.conf", "x\n")];
    const r = await s.transact(after, [], keep);
    assert.deepEqual(r.entries.map((e) => `${e.ref.name} ${e.action}`), ["site created"]);
    assert.equal(existsSync(join(root, "old.conf")), true);
    assert.deepEqual(registered(), ["new.conf", "old.conf"], "still owned, so a later prune can remove it");
    assert.deepEqual(show((await s.diff(after, { inventory: inventoryOf(after) })).entries), ["site delete: - old.conf (previous path of File/site, now new.conf)"]);
    const again = await s.transact(after, [], prune);
    assert.deepEqual(again.entries.map((e) => `${e.ref.name} ${e.action}`), ["site configured"]);
    assert.equal(existsSync(join(root, "old.conf")), false);
    assert.deepEqual(registered(), ["new.conf"]);
  });

  it("a stale object pruned off keeps its registry entry, so a later prune still removes its file", async () => {
    const before = [file("a", "a.conf", "a\n"), file("b", "b.conf", "b\n")];
    await s.transact(before, [], prune);
    const after = [file("a", "a.conf", "a\n")];
    const stale = inventoryOf(before).entries.filter((e) => e.ref.name === "b");
    assert.deepEqual((await s.transact(after, stale, keep)).entries.map((e) => `${e.ref.name} ${e.action}`), ["a unchanged"]);
    assert.deepEqual(registered(), ["a.conf", "b.conf"]);
    const r = await s.transact(after, stale, prune);
    assert.deepEqual(r.entries.map((e) => `${e.ref.name} ${e.action}`), ["a unchanged", "b deleted"]);
    assert.equal(existsSync(join(root, "b.conf")), false);
  });

  it("never removes a previous path that gitward did not create", async () => {
    writeFileSync(join(root, "conf.d/theirs.conf"), "was here first\n");
    const before = [file("site", "conf.d/theirs.conf", "managed\n")];
    await s.transact(before, [], prune);
    const after = [file("site", "conf.d/mine.conf", "managed\n")];
    const d = await s.diff(after, { inventory: inventoryOf(before) });
    assert.deepEqual(show(d.entries), [
      "site create",
      "site delete: - conf.d/theirs.conf (previous path of File/site, now conf.d/mine.conf; existed before gitward: prune leaves it in place)",
    ]);
    await s.transact(after, [], prune);
    assert.equal(readFileSync(join(root, "conf.d/theirs.conf"), "utf8"), "managed\n", "left in place");
    assert.deepEqual(registered(), ["conf.d/mine.conf"], "and no longer managed");
  });

  it("a stale Directory with two paths: the empty one goes, and the message names the path left and its kind", async () => {
    await s.transact([directory("d", "linkdir")], [], prune);
    const renamed = [directory("d", "d")];
    await s.transact(renamed, [], keep);
    writeFileSync(join(root, "linkdir/x.conf"), "not gitward's\n");
    const r = await s.transact([], inventoryOf(renamed).entries, prune);
    assert.deepEqual(r.entries.map((e) => `${e.ref.name} ${e.action}: ${e.message ?? ""}`), [
      "d skipped: directory linkdir left in place: it holds files gitward does not manage (x.conf)",
    ]);
    assert.equal(existsSync(join(root, "d")), false, "the empty directory at the Directory's path is removed");
    assert.equal(readFileSync(join(root, "linkdir/x.conf"), "utf8"), "not gitward's\n");
    assert.deepEqual(registered(), []);
  });
});
