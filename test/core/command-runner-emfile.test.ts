import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";

const src = resolve(import.meta.dirname, "../../src");

/**
 * With every file descriptor in use, starting git fails with EMFILE. Node then emits 'error' on
 * the child on the next tick and leaves its pipes unset: a runner that touched the pipes first
 * threw a TypeError and left that 'error' unhandled, which ended the process (an agent under a
 * connection flood died at its next poll). The script runs in its own process with a low
 * descriptor limit, and must end on its own with both failures reported as rejections.
 */
describe("starting a program with no file descriptor left", () => {
  it("is a rejected run (CommandStartError EMFILE), for the runner and for git cat-file --batch; the process lives", () => {
    const dir = mkdtempSync(join(tmpdir(), "gitward-emfile-"));
    try {
      execFileSync("git", ["init", "-q", "--bare", join(dir, "repo.git")]);
      const script = join(dir, "exhaust.ts");
      writeFileSync(script, `
import { openSync } from "node:fs";
import { ProcessRunner } from ${JSON.stringify(join(src, "core/command-runner.ts"))};
import { CatFileBatch } from ${JSON.stringify(join(src, "source/batch-reader.ts"))};
const held = [];
try { for (;;) held.push(openSync("/dev/null", "r")); } catch (e) { console.log("exhausted", e.code); }
try { await new ProcessRunner().run({ command: "git", args: ["--version"] }); console.log("runner ran"); }
catch (e) { console.log("runner rejected", e.name, e.errno); }
const reader = new CatFileBatch({ gitDir: ${JSON.stringify(join(dir, "repo.git"))}, displayName: "repo" });
try { await reader.read(["0000000000000000000000000000000000000000"]); console.log("reader read"); }
catch (e) { console.log("reader rejected", e.name); }
await new Promise((r) => setTimeout(r, 300));
console.log("alive");
`);
      const out = execFileSync("sh", ["-c", `ulimit -n 64 && exec "${process.execPath}" "${script}"`], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      assert.match(out, /exhausted EMFILE/);
      assert.match(out, /runner rejected CommandStartError EMFILE/);
      assert.match(out, /reader rejected GitwardError/);
      assert.match(out, /alive/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
