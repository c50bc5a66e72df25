import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { agentHeapFlag, heapFlagFor, renderHeapFlag } from "../../src/cli/long-run.ts";

const argv = (...args: string[]): string[] => ["node", "gitward", ...args];

describe("the heap flag each command re-executes with", () => {
  it("gives the long-running commands a small young generation", () => {
    assert.equal(heapFlagFor(argv("agent", "--repo", "x")), agentHeapFlag);
    assert.equal(heapFlagFor(argv("quickstart")), agentHeapFlag);
  });

  it("caps the young generation of the commands that render a whole revision", () => {
    for (const command of ["validate", "render", "plan", "diff", "apply"]) assert.equal(heapFlagFor(argv(command)), renderHeapFlag, command);
  });

  it("leaves the others, and help, on Node's default", () => {
    for (const args of [[], ["status"], ["history"], ["validate", "--help"], ["apply", "-h"], ["constructor"], ["__proto__"]]) {
      assert.equal(heapFlagFor(argv(...args)), undefined, args.join(" "));
    }
  });

  it("re-executes `gitward validate` with the flag (the process sees it in its own execArgv)", () => {
    // A probe preloaded with --import prints the flags of the process that finally runs.
    const dir = mkdtempSync(join(tmpdir(), "gitward-long-run-"));
    try {
      const probe = join(dir, "probe.mjs");
      writeFileSync(probe, "process.on('exit', () => process.stderr.write(`EXECARGV ${JSON.stringify(process.execArgv)}\\n`));\n");
      const run = (env: NodeJS.ProcessEnv): string[] => {
        let stderr = "";
        try {
          execFileSync(process.execPath, ["--import", probe, join(import.meta.dirname, "../../bin/gitward.js"), "validate", "--repo", dir], { env: { ...process.env, ...env }, stdio: "pipe", encoding: "utf8" });
        } catch (e: unknown) {
          stderr = (e as { stderr: string }).stderr;
        }
        const line = stderr.split("\n").find((l) => l.startsWith("EXECARGV "));
        assert.ok(line !== undefined, stderr);
        return JSON.parse(line.slice("EXECARGV ".length)) as string[];
      };
      const env = { GITWARD_NO_REEXEC: undefined, NODE_OPTIONS: undefined };
      assert.ok(run(env).includes(renderHeapFlag));
      assert.ok(!run({ ...env, GITWARD_NO_REEXEC: "1" }).includes(renderHeapFlag));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
