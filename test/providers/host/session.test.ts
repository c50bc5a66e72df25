import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { KObject } from "../../../src/core/object.ts";
import type { DesiredObject, Inventory, StackRef, TransactOptions } from "../../../src/providers/provider.ts";
import { hostProvider } from "../../../src/providers/host/provider.ts";
import type { HostSession } from "../../../src/providers/host/session.ts";

const stack: StackRef = { environment: "dev", stack: "web" };
const opts: TransactOptions = { stack, dryRun: false, force: false, prune: true };

function file(name: string, path: string, content: string, mode = "0644", extra: Record<string, string> = {}): DesiredObject {
  const object: KObject = { apiVersion: "host.gitward.dev/v1alpha1", kind: "File", metadata: { name }, spec: { path, content, mode, ...extra } };
  return { ref: { group: "host.gitward.dev", kind: "File", name }, apiVersion: "host.gitward.dev/v1alpha1", object };
}

function directory(name: string, path: string, purge: boolean): DesiredObject {
  const object: KObject = { apiVersion: "host.gitward.dev/v1alpha1", kind: "Directory", metadata: { name }, spec: { path, purge } };
  return { ref: { group: "host.gitward.dev", kind: "Directory", name }, apiVersion: "host.gitward.dev/v1alpha1", object };
}

/** A command that exits with the code in a file of the root (default 0), printing a word: lets a test make reload or health fail. */
function switchable(word: string, codeFile: string): string[] {
  return [process.execPath, "-e", `const fs=require("fs");const c=fs.existsSync(${JSON.stringify(codeFile)})?Number(fs.readFileSync(${JSON.stringify(codeFile)},"utf8")):0;console.log(${JSON.stringify(word)});process.exit(c)`];
}

describe("host session", () => {
  let root: string;
  let control: string;
  /** Opens the target with its commands defined the runner's way: gitward.yaml names each phase's command, the context defines it. */
  const open = async (commands: { check?: string[]; reload?: string[]; health?: { command: string[]; attempts: number; intervalSeconds: number } } = {}): Promise<HostSession> => {
    const target: Record<string, unknown> = { provider: "host", root };
    const defined: Record<string, { command: string[] }> = {};
    for (const phase of ["check", "reload"] as const) {
      const argv = commands[phase];
      if (argv === undefined) continue;
      target[phase] = `my-${phase}`;
      defined[`my-${phase}`] = { command: argv };
    }
    if (commands.health !== undefined) {
      target["health"] = { ...commands.health, command: "my-health" };
      defined["my-health"] = { command: commands.health.command };
    }
    return (await hostProvider().open("edge", target, { hostCommands: { edge: defined } })) as HostSession;
  };
  const inventoryOf = (desired: readonly DesiredObject[]): Inventory => ({
    stack, revision: "r1", syncs: [], entries: desired.map((d) => ({ ref: d.ref, apiVersion: d.apiVersion })),
  });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "gitward-host-root-"));
    control = mkdtempSync(join(tmpdir(), "gitward-host-control-"));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(control, { recursive: true, force: true });
  });

  it("creates files with exact modes, then a no-op sync writes nothing and runs no command", async () => {
    const s = await open({ reload: switchable("reloaded", join(control, "reload")) });
    const desired = [file("a", "conf.d/a.conf", "a\n", "0640"), file("b", "b.txt", "b\n")];
    const first = await s.transact(desired, [], opts);
    assert.deepEqual(first.entries.map((e) => e.action), ["created", "created"]);
    assert.deepEqual(first.commands.map((c) => [c.phase, c.exitCode, c.output.trim()]), [["reload", 0, "reloaded"]]);
    assert.equal(readFileSync(join(root, "conf.d/a.conf"), "utf8"), "a\n");
    assert.equal(statSync(join(root, "conf.d/a.conf")).mode & 0o7777, 0o640);
    const before = statSync(join(root, "b.txt"));
    const second = await s.transact(desired, [], opts);
    assert.deepEqual(second.entries.map((e) => e.action), ["unchanged", "unchanged"]);
    assert.deepEqual(second.commands, []);
    const afterStat = statSync(join(root, "b.txt"));
    assert.equal(afterStat.ino, before.ino, "not rewritten");
    assert.equal(afterStat.mtimeMs, before.mtimeMs);
  });

  it("a failed check changes nothing and reports the check's output", async () => {
    writeFileSync(join(root, "keep.conf"), "old\n");
    const check = [process.execPath, "-e", "const fs=require('fs');const t=fs.readFileSync(process.argv[1]+'/keep.conf','utf8');if(t.includes('bad')){console.error('bad config at line 1');process.exit(3)}", "{staged}"];
    const s = await open({ check, reload: switchable("reloaded", join(control, "reload")) });
    const r = await s.transact([file("k", "keep.conf", "bad\n")], [], opts);
    assert.equal(readFileSync(join(root, "keep.conf"), "utf8"), "old\n");
    assert.match(r.error ?? "", /check `.*` exited 3: bad config at line 1/);
    assert.match(r.error ?? "", /nothing was changed/);
    assert.deepEqual(r.entries.map((e) => e.action), ["failed"]);
    assert.deepEqual(r.commands.map((c) => c.phase), ["check"]);
    const ok = await s.transact([file("k", "keep.conf", "good\n")], [], opts);
    assert.equal(ok.error, undefined);
    assert.equal(readFileSync(join(root, "keep.conf"), "utf8"), "good\n", "the check saw the staged content, not the live one");
  });

  it("rolls back after a failed reload: previous content, modes and absent files restored, reloaded again", async () => {
    const s = await open({ reload: switchable("reload", join(control, "reload")) });
    await s.transact([file("a", "a.conf", "v1\n", "0600")], [], opts);
    writeFileSync(join(control, "reload"), "1");
    const r = await s.transact([file("a", "a.conf", "v2\n", "0644"), file("n", "new/n.conf", "new\n")], [], opts);
    assert.deepEqual(r.commands.map((c) => [c.phase, c.exitCode]), [["reload", 1], ["rollback-reload", 1]]);
    assert.match(r.error ?? "", /reload `.*` exited 1: reload/);
    assert.match(r.error ?? "", /rolled back/);
    assert.equal(readFileSync(join(root, "a.conf"), "utf8"), "v1\n");
    assert.equal(statSync(join(root, "a.conf")).mode & 0o7777, 0o600);
    assert.equal(existsSync(join(root, "new")), false, "created file and directory removed");
    assert.deepEqual(r.entries.map((e) => e.action), ["failed", "failed"]);
  });

  it("rolls back when health never passes, and keeps trying it the configured number of times", async () => {
    const count = join(control, "tries");
    const health = { command: [process.execPath, "-e", `const fs=require("fs");const n=(fs.existsSync(${JSON.stringify(count)})?Number(fs.readFileSync(${JSON.stringify(count)},"utf8")):0)+1;fs.writeFileSync(${JSON.stringify(count)},String(n));console.log("502");process.exit(1)`], attempts: 3, intervalSeconds: 0 };
    const s = await open({ health });
    writeFileSync(join(root, "site.conf"), "old\n");
    const r = await s.transact([file("s", "site.conf", "new\n")], [], opts);
    assert.equal(readFileSync(count, "utf8"), "3");
    assert.match(r.error ?? "", /health .* exited 1: 502 \(failed 3 tries\)/);
    assert.equal(readFileSync(join(root, "site.conf"), "utf8"), "old\n");
  });

  it("prunes only what gitward created; a file it adopted is left in place", async () => {
    writeFileSync(join(root, "adopted.conf"), "was here first\n");
    const s = await open();
    const desired = [file("adopted", "adopted.conf", "managed\n"), file("made", "made.conf", "made\n")];
    await s.transact(desired, [], opts);
    const r = await s.transact([], inventoryOf(desired).entries, opts);
    assert.deepEqual(r.entries.map((e) => [e.ref.name, e.action]), [["adopted", "skipped"], ["made", "deleted"]]);
    assert.match(r.entries[0]?.message ?? "", /existed before gitward managed it/);
    assert.equal(existsSync(join(root, "made.conf")), false);
    assert.equal(readFileSync(join(root, "adopted.conf"), "utf8"), "managed\n");
  });

  it("without prune, stale files stay", async () => {
    const s = await open();
    const desired = [file("made", "made.conf", "made\n")];
    await s.transact(desired, [], opts);
    const r = await s.transact([], inventoryOf(desired).entries, { ...opts, prune: false });
    assert.deepEqual(r.entries, []);
    assert.equal(existsSync(join(root, "made.conf")), true);
  });

  it("a purged Directory removes unmanaged files; without purge they are reported as drift", async () => {
    mkdirSync(join(root, "sites"));
    writeFileSync(join(root, "sites/stray.conf"), "x\n");
    const s = await open();
    const keep = [directory("sites", "sites", false), file("a", "sites/a.conf", "a\n")];
    await s.transact(keep, [], opts);
    const diff = await s.diff(keep, { inventory: inventoryOf(keep) });
    const dir = diff.entries.find((e) => e.ref.kind === "Directory");
    assert.equal(dir?.action, "no-op");
    assert.deepEqual(dir?.drift?.map((d) => d.field), ["unmanaged file sites/stray.conf"]);
    assert.equal(existsSync(join(root, "sites/stray.conf")), true);
    const purge = [directory("sites", "sites", true), file("a", "sites/a.conf", "a\n")];
    assert.equal((await s.diff(purge, { inventory: inventoryOf(purge) })).entries.find((e) => e.ref.kind === "Directory")?.action, "update");
    const r = await s.transact(purge, [], opts);
    assert.equal(r.entries.find((e) => e.ref.kind === "Directory")?.action, "configured");
    assert.equal(existsSync(join(root, "sites/stray.conf")), false);
    assert.equal(readFileSync(join(root, "sites/a.conf"), "utf8"), "a\n");
  });

  it("refuses a path through a symlink out of the root, changing nothing", async () => {
    const outside = mkdtempSync(join(tmpdir(), "gitward-outside-"));
    try {
      symlinkSync(outside, join(root, "link"));
      const s = await open();
      const r = await s.transact([file("ok", "ok.conf", "ok\n"), file("evil", "link/passwd", "pwned\n")], [], opts);
      assert.notEqual(r.error, undefined);
      assert.match(JSON.stringify(r), /link is a symlink/);
      assert.equal(existsSync(join(outside, "passwd")), false);
      assert.equal(existsSync(join(root, "ok.conf")), false, "nothing applied");
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it("refuses a path that another stack manages", async () => {
    const s = await open();
    await s.transact([file("a", "shared.conf", "web\n")], [], opts);
    const r = await s.transact([file("a", "shared.conf", "api\n")], [], { ...opts, stack: { environment: "dev", stack: "api" } });
    assert.equal(r.entries[0]?.action, "failed");
    assert.match(r.entries[0]?.message ?? "", /shared\.conf is managed by stack dev\/web/);
    assert.equal(readFileSync(join(root, "shared.conf"), "utf8"), "web\n");
  });

  it("diff: create, update with a content diff and drift, mode drift, delete, no-op", async () => {
    const s = await open();
    const desired = [file("a", "a.conf", "one\ntwo\n"), file("m", "m.conf", "m\n", "0600"), file("gone", "gone.conf", "g\n")];
    await s.transact(desired, [], opts);
    writeFileSync(join(root, "a.conf"), "one\nTWO\n");
    const { chmodSync } = await import("node:fs");
    chmodSync(join(root, "m.conf"), 0o644);
    const next = [file("a", "a.conf", "one\ntwo\n"), file("m", "m.conf", "m\n", "0600"), file("new", "new.conf", "n\n")];
    const d = await s.diff(next, { inventory: inventoryOf(desired) });
    const by = new Map(d.entries.map((e) => [e.ref.name, e]));
    assert.equal(by.get("a")?.action, "update");
    assert.match(by.get("a")?.diff ?? "", /-TWO\n\+two/);
    assert.deepEqual(by.get("a")?.drift?.map((x) => x.field), ["content"]);
    assert.match(by.get("a")?.drift?.[0]?.time ?? "", /^\d{4}-\d\d-\d\dT/);
    assert.equal(by.get("m")?.action, "update");
    assert.match(by.get("m")?.diff ?? "", /mode 0644 → 0600/);
    assert.equal(by.get("new")?.action, "create");
    assert.equal(by.get("gone")?.action, "delete");
    assert.match(by.get("gone")?.diff ?? "", /- gone\.conf/);
    const clean = await s.diff(desired, { inventory: inventoryOf(desired) });
    assert.equal(clean.entries.find((e) => e.ref.name === "gone")?.action, "no-op");
  });

  it("dry-run runs the check on the staged tree and changes nothing", async () => {
    const s = await open({ check: [process.execPath, "-e", "require('fs').accessSync(process.argv[1]+'/x.conf')", "{staged}"], reload: switchable("reload", join(control, "reload")) });
    const r = await s.transact([file("x", "x.conf", "x\n")], [], { ...opts, dryRun: true });
    assert.deepEqual(r.entries.map((e) => e.action), ["created"]);
    assert.deepEqual(r.commands.map((c) => [c.phase, c.exitCode]), [["check", 0]]);
    assert.equal(existsSync(join(root, "x.conf")), false);
  });

  it("an invalid object fails the stack before anything is written", async () => {
    const s = await open();
    const bad = file("bad", "../etc/passwd", "x\n");
    const r = await s.transact([file("ok", "ok.conf", "ok\n"), bad], [], opts);
    assert.match(r.error ?? "", /1 invalid object/);
    assert.match(r.entries.find((e) => e.ref.name === "bad")?.message ?? "", /escapes the target root/);
    assert.equal(existsSync(join(root, "ok.conf")), false);
  });

  it("a root that does not exist is a config error naming it", async () => {
    await assert.rejects(hostProvider().open("edge", { provider: "host", root: join(root, "missing") }, {}), /target edge: root .*missing cannot be used: ENOENT/);
  });
});
