import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { projectRoot } from "./support/cli.ts";

describe("package entry", () => {
  it("package.json's exports name the build of src/index.ts", () => {
    const pkg = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { exports: Record<string, string> };
    assert.equal(pkg.exports["."], "./dist/index.js");
    assert.ok(existsSync(join(projectRoot, "src/index.ts")), "tsconfig.build.json compiles src/index.ts to dist/index.js");
  });

  it("exposes the engine's entry points, the lifecycle of a stack and the provider contract", async () => {
    const api = await import("../src/index.ts");
    for (const name of [
      "openWorkspace", "evaluateRevision", "planRevisions", "decideGate", "syncEnvironment", "diffEnvironment",
      "reconcileStack", "decide", "noopRecorder", "storeRecorder", "defaultProviders", "rollback", "openStore", "systemClock", "maskSecrets",
    ] as const) {
      assert.equal(typeof api[name], "function", name);
    }
    assert.equal(typeof api.TargetPool, "function");
    assert.equal(api.Action.Created, "created");
    assert.equal(api.Job.Sync, "sync");
  });

  it("the documented example names only what the entry exports", async () => {
    const doc = readFileSync(join(projectRoot, "docs/api.md"), "utf8");
    const imported = [...doc.matchAll(/import \{([^}]+)\} from "gitward"/g)].flatMap((m) => (m[1] ?? "").split(",").map((s) => s.trim().replace(/^type /, "")).filter(Boolean));
    assert.ok(imported.length > 3);
    const api = await import("../src/index.ts") as Record<string, unknown>;
    const typeOnly = new Set(["Provider", "TargetSession", "DesiredObject", "ChangeSetEntry", "DiffEntry", "Inventory", "StackRef"]);
    for (const name of imported) assert.ok(name in api || typeOnly.has(name), `${name} is not exported`);
  });
});
