import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { DesiredObject, DiffEntry, Inventory, StackRef, TransactOptions } from "../../../src/providers/provider.ts";
import { hostProvider } from "../../../src/providers/host/provider.ts";
import type { HostSession } from "../../../src/providers/host/session.ts";

// Live content that was never in Git must not be readable through a diff.

const stack: StackRef = { environment: "dev", stack: "web" };
const apiVersion = "host.gitward.dev/v1alpha1";
const opts: TransactOptions = { stack, dryRun: false, force: false, prune: true };

function file(name: string, path: string, content: string, spec: Record<string, unknown> = {}): DesiredObject {
  return { ref: { group: "host.gitward.dev", kind: "File", name }, apiVersion, object: { apiVersion, kind: "File", metadata: { name }, spec: { path, content, ...spec } } };
}

const inventoryOf = (desired: readonly DesiredObject[]): Inventory => ({
  stack, revision: "r1", syncs: [], entries: desired.map((d) => ({ ref: d.ref, apiVersion: d.apiVersion })),
});
const sha = (text: string): string => createHash("sha256").update(text).digest("hex").slice(0, 12);

describe("host session: diffs never show content that must stay private", () => {
  let root: string;
  let s: HostSession;
  const diffOf = async (desired: DesiredObject[]): Promise<DiffEntry | undefined> => (await s.diff(desired, { inventory: inventoryOf(desired) })).entries[0];

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), "gitward-host-mask-"));
    s = (await hostProvider().open("edge", { provider: "host", root }, {})) as HostSession;
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("a 0600 file edited on the host: the diff says it differs, with sizes and hashes, never what it holds", async () => {
    const git = "user=app\npassword=from-git\n";
    const desired = [file("db", "app.env", git, { mode: "0600" })];
    await s.transact(desired, [], opts);
    const live = "user=app\npassword=hunter2-typed-on-the-host\nextra=1\n";
    writeFileSync(join(root, "app.env"), live);
    const e = await diffOf(desired);
    assert.equal(e?.action, "update");
    assert.doesNotMatch(JSON.stringify(e), /hunter2|from-git|user=app|extra/);
    assert.equal(e?.diff, `# content differs (masked: mode 0600): ${live.length} → ${git.length} bytes, sha256 ${sha(live)}… → ${sha(git)}…`);
    assert.deepEqual(e?.drift?.map((d) => d.field), ["content"]);
  });

  it("a world-readable desired file that is 0600 on the host is masked too, whichever side is private", async () => {
    const desired = [file("site", "site.conf", "listen 80;\n")];
    await s.transact(desired, [], opts);
    writeFileSync(join(root, "site.conf"), "listen 80;\nhand-written secret stuff\n");
    chmodSync(join(root, "site.conf"), 0o600);
    const e = await diffOf(desired);
    assert.match(e?.diff ?? "", /# mode 0600 → 0644\n# content differs \(masked: live mode 0600\): 37 → 11 bytes, sha256 [0-9a-f]{12}… → [0-9a-f]{12}…/);
    assert.doesNotMatch(e?.diff ?? "", /hand-written/);
  });

  it("spec.sensitive masks a world-readable file, on create as on update", async () => {
    const desired = [file("key", "token.txt", "abc-def\n", { sensitive: true })];
    const create = await diffOf(desired);
    assert.equal(create?.diff, `# token.txt mode 0644\n# content (masked: sensitive): 8 bytes, sha256 ${sha("abc-def\n")}…`);
    await s.transact(desired, [], opts);
    writeFileSync(join(root, "token.txt"), "typed-by-hand\n");
    assert.match((await diffOf(desired))?.diff ?? "", /^# content differs \(masked: sensitive\): 14 → 8 bytes/);
  });

  it("a 0640 file being created is masked: its mode says it is not for everyone", async () => {
    const e = await diffOf([file("c", "c.conf", "secret-ish\n", { mode: "0640" })]);
    assert.equal(e?.diff, `# c.conf mode 0640\n# content (masked: mode 0640): 11 bytes, sha256 ${sha("secret-ish\n")}…`);
  });

  it("a world-readable file is shown with secret patterns masked on both sides", async () => {
    const token = `ghp_${"a".repeat(36)}`;
    const desired = [file("app", "app.ini", `name=app\npassword=new-one\ntoken_url=https://bob:pa55w0rd@example.com/\n`)];
    await s.transact(desired, [], opts);
    writeFileSync(join(root, "app.ini"), `name=app\npassword=old-one\ngithub=${token}\n`);
    const e = await diffOf(desired);
    const diff = e?.diff ?? "";
    assert.doesNotMatch(diff, /new-one|old-one|pa55w0rd|ghp_/);
    assert.match(diff, /\n-github=\*\*\*\n/);
    assert.match(diff, /\+token_url=https:\/\/bob:\*\*\*@example\.com\//);
    // Only masked values differ on this line, so it is not shown as changed.
    assert.match(diff, / password=\*\*\*/);
  });

  it("says so when two texts differ only in masked values", async () => {
    const desired = [file("app", "app.ini", "password=new\n")];
    await s.transact(desired, [], opts);
    writeFileSync(join(root, "app.ini"), "password=old\n");
    assert.equal((await diffOf(desired))?.diff, "# content differs only in values masked as secrets");
  });

  it("an unmanaged file whose name holds a newline is shown quoted, not as two diff lines", async () => {
    mkdirSync(join(root, "sites"));
    writeFileSync(join(root, "sites", "x\n+ forged line"), "");
    const desired: DesiredObject[] = [{
      ref: { group: "host.gitward.dev", kind: "Directory", name: "sites" }, apiVersion,
      object: { apiVersion, kind: "Directory", metadata: { name: "sites" }, spec: { path: "sites", purge: true } },
    }];
    const e = await diffOf(desired);
    assert.equal(e?.diff, '- "sites/x\\n+ forged line" (not in Git: purge removes it)');
  });
});
