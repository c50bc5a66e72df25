import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { projectRoot, runCli } from "../support/cli.ts";

const main = join(projectRoot, "src/cli/main.ts");

/** Runs a bash line; resolves with what it printed, whatever its exit code. */
function bash(line: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("bash", ["-c", line], { cwd: projectRoot, encoding: "utf8", timeout: 60_000 }, (_error, stdout, stderr) => resolve({ stdout, stderr }));
  });
}

/** A Node older than gitward supports, if this machine has one (Debian's /usr/bin/node often is). */
function oldNode(): { path: string; version: string } | undefined {
  for (const path of ["/usr/bin/node", "/usr/local/bin/node"]) {
    if (!existsSync(path)) continue;
    const version = execFileSync(path, ["--version"], { encoding: "utf8" }).trim().replace(/^v/, "");
    const [major = 0, minor = 0] = version.split(".").map(Number);
    if (major < 22 || (major === 22 && minor < 19)) return { path, version };
  }
  return undefined;
}

describe("the gitward command line", () => {
  const unknown: [string, string[], string][] = [
    ["an unknown command", ["deploy"], "error: unknown command 'deploy'"],
    ["an unknown command followed by --help", ["deploy", "now", "--help"], "error: unknown command 'deploy'"],
    ["an unknown subcommand followed by --help", ["audit", "nosuch", "--help"], "error: unknown command 'nosuch'"],
  ];
  for (const [name, args, message] of unknown) {
    it(`refuses ${name} with exit 1`, async () => {
      const r = await runCli(args);
      assert.equal(r.code, 1);
      assert.equal(r.stdout, "", "no help on stdout");
      assert.equal(r.stderr.split("\n")[0], message);
    });
  }

  it("still answers --help before a command, and a command's own --help", async () => {
    const general = await runCli(["--help"]);
    assert.equal(general.code, 0);
    assert.match(general.stdout, /^Usage: gitward \[options\] \[command\]/);
    const own = await runCli(["audit", "verify", "--help"]);
    assert.equal(own.code, 0);
    assert.match(own.stdout, /^Usage: gitward audit verify \[options\]/);
  });

  it("stops quietly with exit 0 when the reader of stdout has gone (gitward --help | head)", async () => {
    // `true` exits without reading, so every write meets a closed pipe.
    const r = await bash(`"${process.execPath}" "${main}" --help | true; echo "exit \${PIPESTATUS[0]}"`);
    assert.equal(r.stdout, "exit 0\n");
    assert.equal(r.stderr, "");
  });

  it("says which Node it needs when started by an older one, before loading anything", async (t) => {
    const old = oldNode();
    if (old === undefined) {
      t.skip("no Node older than 22.19 on this machine");
      return;
    }
    const r = await bash(`"${old.path}" bin/gitward.js --version; echo "exit $?"`);
    assert.equal(r.stderr.split("\n")[0], `gitward needs Node ≥ 22.19, found ${old.version}`);
    assert.doesNotMatch(r.stderr, /^\s+at |SyntaxError/m, "no stack trace");
    assert.equal(r.stdout, "exit 1\n");
  });
});
