import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { projectRoot } from "../support/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "gitward-compile-cache-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function run(env: Record<string, string>): string {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("NODE_COMPILE_CACHE") && k !== "NODE_DISABLE_COMPILE_CACHE"));
  return execFileSync(process.execPath, [join(projectRoot, "src/cli/main.ts"), "--version"], { encoding: "utf8", env: { ...clean, ...env }, timeout: 30_000 });
}

describe("the compile cache", () => {
  it("is kept in gitward's cache directory", () => {
    const cacheDir = join(dir, "cache");
    assert.equal(run({ GITWARD_CACHE_DIR: cacheDir }).trim(), "0.1.0");
    const versions = readdirSync(join(cacheDir, "node-compile-cache"));
    assert.equal(versions.length, 1);
    assert.ok(readdirSync(join(cacheDir, "node-compile-cache", versions[0]!)).length > 10, "the modules of the command line were cached");
  });

  it("stays off when Node is told so", () => {
    const cacheDir = join(dir, "off");
    assert.equal(run({ GITWARD_CACHE_DIR: cacheDir, NODE_DISABLE_COMPILE_CACHE: "1" }).trim(), "0.1.0");
    assert.throws(() => readdirSync(join(cacheDir, "node-compile-cache")), /ENOENT/);
  });

  it("does not stop a command when its directory cannot be made", () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "");
    assert.equal(run({ GITWARD_CACHE_DIR: join(file, "cache") }).trim(), "0.1.0");
  });
});
