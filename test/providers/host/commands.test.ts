import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { GitwardError } from "../../../src/core/errors.ts";
import type { KObject } from "../../../src/core/object.ts";
import type { DesiredObject, HostCommandDefinition, ProviderContext, TransactOptions } from "../../../src/providers/provider.ts";
import { hostProvider } from "../../../src/providers/host/provider.ts";
import { resolveHostCommands } from "../../../src/providers/host/resolve-commands.ts";
import type { HostSession } from "../../../src/providers/host/session.ts";

const opts: TransactOptions = { stack: { environment: "dev", stack: "web" }, dryRun: false, force: false, prune: true };

function file(name: string, path: string, content: string): DesiredObject {
  const object: KObject = { apiVersion: "host.gitward.dev/v1alpha1", kind: "File", metadata: { name }, spec: { path, content } };
  return { ref: { group: "host.gitward.dev", kind: "File", name }, apiVersion: "host.gitward.dev/v1alpha1", object };
}

/** Processes whose command line holds `word`: what a killed command may have left behind. */
function processesWith(word: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(word)) found.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

describe("host commands: gitward.yaml names them, the runner defines them", () => {
  let root: string;
  let control: string;
  /** A command that leaves a trace when it runs, so a test can prove it did not. */
  const trace = (): string[] => ["sh", "-c", `echo ran >> ${join(control, "ran")}`];
  const ran = (): boolean => existsSync(join(control, "ran"));
  const open = async (target: Record<string, unknown>, ctx: ProviderContext = {}): Promise<HostSession> =>
    (await hostProvider().open("edge", { provider: "host", root, ...target }, ctx)) as HostSession;
  const defined = (commands: Record<string, HostCommandDefinition>): ProviderContext => ({ hostCommands: { edge: commands } });

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "gitward-host-cmd-root-"));
    control = mkdtempSync(join(tmpdir(), "gitward-host-cmd-control-"));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(control, { recursive: true, force: true });
  });

  it("refuses an argument array written in gitward.yaml with the migration error: nothing runs, nothing is written", async () => {
    const s = await open({ check: ["sh", "-c", `cat /etc/passwd; echo ran >> ${join(control, "ran")}`] }, defined({ other: { command: trace() } }));
    const err = await s.transact([file("a", "a.conf", "a\n")], [], opts).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof GitwardError, String(err));
    assert.match(err.message, /^target edge: check is an argument array \(\["sh","-c",.*\]\); gitward.yaml only names commands, and nothing was run$/);
    assert.match(err.hint ?? "", /define my-check: \["sh","-c",.*\] under targets\.edge\.commands in the agent configuration, or under edge: in the --host-commands file/);
    assert.equal(ran(), false, "the command did not run");
    assert.deepEqual(readdirSync(root), [], "nothing written under the root, not even .gitward");
  });

  it("refuses a name the runner does not define, naming the target, the field and the command: nothing runs", async () => {
    const s = await open({ check: "nginx-test", reload: "nginx-reload" }, defined({ "nginx-reload": { command: trace() } }));
    const err = await s.transact([file("a", "a.conf", "a\n")], [], opts).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof GitwardError, String(err));
    assert.equal(err.message, 'target edge: check names the command "nginx-test", which this runner does not define; nothing was run');
    assert.match(err.hint ?? "", /^define nginx-test under targets\.edge\.commands in the agent configuration \(gitward agent\), or under edge: in the file given to --host-commands \(gitward apply\)/);
    assert.equal(ran(), false, "not even the reload that is defined");
    assert.deepEqual(readdirSync(root), []);
    const none = await open({ reload: "nginx-reload" });
    await assert.rejects(none.transact([file("a", "a.conf", "a\n")], [], opts), /target edge: reload names the command "nginx-reload", which this runner does not define/);
    await assert.rejects(none.remove([], { stack: opts.stack, dryRun: false }), /which this runner does not define/, "a bare remove is a sync too");
    assert.equal(ran(), false);
  });

  it("a target whose names do not resolve can still be diffed (diff runs nothing), and its health is degraded", async () => {
    const s = await open({ check: "nginx-test", health: "healthz" });
    const d = await s.diff([file("a", "a.conf", "a\n")], {});
    assert.deepEqual(d.entries.map((e) => e.action), ["create"]);
    const h = await s.wait([file("a", "a.conf", "a\n").ref], { timeoutMs: 1000 });
    assert.deepEqual(h.entries.map((e) => e.health), ["degraded"]);
    assert.match(h.entries[0]?.message ?? "", /health names the command "healthz"/);
  });

  it("runs the runner's argument array for the name, {staged} and {root} replaced", async () => {
    const out = join(control, "args");
    const s = await open({ check: "show", reload: "show-root" }, defined({
      show: { command: ["sh", "-c", `cat "$1/a.conf" > ${out}`, "sh", "{staged}"] },
      "show-root": { command: ["sh", "-c", `echo "$1" >> ${out}; pwd >> ${out}`, "sh", "{root}"], timeoutSeconds: 5 },
    }));
    const r = await s.transact([file("a", "a.conf", "from git\n")], [], opts);
    assert.equal(r.error, undefined, r.error);
    assert.deepEqual(r.commands.map((c) => [c.phase, c.exitCode]), [["check", 0], ["reload", 0]]);
    assert.equal(readFileSync(out, "utf8"), `from git\n${root}\n${root}\n`, "the check saw the staged file; reload ran in the root");
  });

  it("a check that starts a process and hangs is killed with it at the definition's timeout: the sync fails, nothing changes, the root is free again", async () => {
    const word = `${100_000 + Math.floor(Math.random() * 800_000)}`;
    const s = await open({ check: "hang", reload: "ok" }, defined({
      hang: { command: ["sh", "-c", `sleep ${word} & sleep ${word}`], timeoutSeconds: 1 },
      ok: { command: ["true"] },
    }));
    const started = Date.now();
    const r = await s.transact([file("a", "a.conf", "new\n")], [], opts);
    const took = Date.now() - started;
    assert.ok(took < 5000, `the sync ended after ${took} ms`);
    assert.match(r.error ?? "", /check `sh -c sleep \d+ & sleep \d+` could not run or timed out: \(killed after 1000 ms, with every process it started\)\nnothing was changed/);
    assert.deepEqual(r.entries.map((e) => e.action), ["failed"]);
    assert.equal(existsSync(join(root, "a.conf")), false, "nothing changed");
    assert.deepEqual(processesWith(`sleep ${word}`), [], "the background sleep was killed too");
    // The root lock was released: the next sync (in this process, and its file lock) goes through.
    const next = await (await open({ reload: "ok" }, defined({ ok: { command: ["true"] } }))).transact([file("a", "a.conf", "new\n")], [], opts);
    assert.equal(next.error, undefined, next.error);
    assert.equal(readFileSync(join(root, "a.conf"), "utf8"), "new\n");
    assert.equal(existsSync(join(root, ".gitward", "lock")), false);
  });
});

describe("resolveHostCommands", () => {
  const defs: Record<string, HostCommandDefinition> = {
    test: { command: ["nginx", "-t"] },
    reload: { command: ["nginx", "-s", "reload"], timeoutSeconds: 30 },
    healthz: { command: ["curl", "-fsS", "http://127.0.0.1/healthz"], timeoutSeconds: 3 },
    slow: { command: ["curl", "http://127.0.0.1/slow"] },
  };
  for (const { name, target, want } of [
    { name: "no commands", target: {}, want: {} },
    { name: "check and reload: the definition's timeout, default 60 s", target: { check: "test", reload: "reload" }, want: {
      check: { name: "test", argv: ["nginx", "-t"], timeoutMs: 60_000 }, reload: { name: "reload", argv: ["nginx", "-s", "reload"], timeoutMs: 30_000 },
    } },
    { name: "health by name: 10 tries, 1 s apart, 10 s each, under the definition's 3 s ceiling", target: { health: "healthz" }, want: {
      health: { command: { name: "healthz", argv: ["curl", "-fsS", "http://127.0.0.1/healthz"], timeoutMs: 3000 }, attempts: 10, intervalMs: 1000 },
    } },
    { name: "health with settings: gitward.yaml's try limit where the definition has none", target: { health: { command: "slow", attempts: 3, intervalSeconds: 0.5, timeoutSeconds: 20 } }, want: {
      health: { command: { name: "slow", argv: ["curl", "http://127.0.0.1/slow"], timeoutMs: 20_000 }, attempts: 3, intervalMs: 500 },
    } },
  ]) {
    it(name, () => assert.deepEqual(resolveHostCommands("edge", target, defs), { ok: true, commands: want }));
  }

  for (const { name, target, error } of [
    { name: "inline check", target: { check: ["sh", "-c", "id"] }, error: /^target edge: check is an argument array/ },
    { name: "inline health", target: { health: ["curl", "x"] }, error: /^target edge: health is an argument array/ },
    { name: "inline health command", target: { health: { command: ["curl", "x"] } }, error: /^target edge: health is an argument array/ },
    { name: "two undefined names", target: { check: "nope", health: { command: "gone" } }, error: /^target edge: check names the command "nope", health names the command "gone", which this runner does not define/ },
    { name: "a number", target: { reload: 3 }, error: /^target edge: reload must be the name of a command the runner defines/ },
  ]) {
    it(`refuses ${name}`, () => {
      const r = resolveHostCommands("edge", target, defs);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.error.message, error);
    });
  }

  it("refuses every name when the runner defines nothing for the target", () => {
    const r = resolveHostCommands("edge", { check: "test" }, undefined);
    assert.equal(r.ok, false);
  });
});
