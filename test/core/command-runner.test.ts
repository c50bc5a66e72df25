import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProcessRunner } from "../../src/core/command-runner.ts";

describe("ProcessRunner", () => {
  const runner = new ProcessRunner();

  it("returns exit code, output and error output", async () => {
    const r = await runner.run({ command: "sh", args: ["-c", "echo out; echo err >&2; exit 3"] });
    assert.deepEqual([r.exitCode, r.stdout.toString(), r.stderr, r.timedOut], [3, "out\n", "err\n", false]);
  });

  it("a timeout ends the run even when a grandchild holds the output open", async () => {
    const started = performance.now();
    // The shell's child keeps stdout open after the shell itself is killed.
    const r = await runner.run({ command: "sh", args: ["-c", "sleep 30 & wait"], timeoutMs: 300 });
    assert.equal(r.timedOut, true);
    assert.ok(performance.now() - started < 5000, `took ${Math.round(performance.now() - started)} ms`);
  });

  it("an abort kills the run and rejects with the signal's reason", async () => {
    const controller = new AbortController();
    const run = runner.run({ command: "sh", args: ["-c", "sleep 30 & wait"], signal: controller.signal });
    setTimeout(() => controller.abort(new Error("stop now")), 100);
    await assert.rejects(run, /stop now/);
  });

  it("output over the cap is truncated and the run killed", async () => {
    const r = await runner.run({ command: "sh", args: ["-c", "yes | head -c 1000000; sleep 30"], maxStdoutBytes: 1000 });
    assert.equal(r.truncated, true);
  });

  it("a command that does not exist is an error naming it", async () => {
    await assert.rejects(runner.run({ command: "no-such-command-gitward", args: [] }), /no-such-command-gitward/);
  });
});
