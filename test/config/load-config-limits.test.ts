import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, formatConfigIssue } from "../../src/config/config-error.ts";
import { parseConfig } from "../../src/config/load-config.ts";
import { stackInstances } from "../../src/config/stack-instances.ts";

const minimal = `version: 1
environments:
  dev:
    targets: { cluster: { provider: kubernetes } }
stacks:
  web: { target: cluster, path: app }
`;

/** The issues parseConfig reports, formatted; it must throw a ConfigError (never another error). */
function issues(source: string | Buffer): string[] {
  try {
    parseConfig(source, "gitward.yaml");
  } catch (e: unknown) {
    assert.ok(e instanceof ConfigError, `not a ConfigError: ${String(e)}`);
    return e.issues.map(formatConfigIssue);
  }
  assert.fail("gitward.yaml was accepted");
}

describe("gitward.yaml that is not UTF-8", () => {
  it("is refused at the line, column and byte of the first bad byte", () => {
    const bytes = Buffer.concat([Buffer.from(minimal), Buffer.from("  api: { target: cluster, path: caf"), Buffer.from([0xe9]), Buffer.from(" }\n")]);
    assert.deepEqual(issues(bytes), [`gitward.yaml:7:36: invalid UTF-8 at byte ${Buffer.byteLength(minimal) + 35} (0xe9): gitward.yaml must be UTF-8 text`]);
  });

  it("is read as before when it is UTF-8 bytes", () => {
    assert.deepEqual(Object.keys(parseConfig(Buffer.from(`# é\n${minimal}`), "gitward.yaml").config.stacks), ["web"]);
  });
});

describe("YAML limits in gitward.yaml", () => {
  it("names the line of the alias past 100, not an internal error", () => {
    const text = `${minimal}x-values: &v "1"\nenvironmentsx:\n${Array.from({ length: 101 }, (_, i) => `  k${i}: *v\n`).join("")}`;
    assert.deepEqual(issues(text), [
      "gitward.yaml:109:9: more than 100 aliases in one document (an alias counts as many times as the aliases inside what it refers to)",
    ]);
  });

  it("names the line of an alias without an anchor", () => {
    assert.deepEqual(issues(`${minimal}x: *nope\n`), ["gitward.yaml:7:4: invalid YAML: alias *nope has no anchor &nope before it"]);
  });

  it("names a line for block nesting deep enough to overflow the parser's stack", () => {
    const nested = Array.from({ length: 3000 }, (_, i) => `${" ".repeat(i)}k${i}:\n`).join("");
    assert.match(issues(`${minimal}x:\n${nested}`)[0] ?? "", /^gitward\.yaml:\d+:\d+: collections nested more than 256 levels deep$/);
  });

  it("names the line of collections nested too deep", () => {
    assert.match(issues(`${minimal}x: ${"[".repeat(300)}${"]".repeat(300)}\n`)[0] ?? "", /^gitward\.yaml:7:\d+: collections nested more than 256 levels deep$/);
  });
});

describe("limits in gitward.yaml", () => {
  it("are read and given to every stack instance", () => {
    const loaded = parseConfig(`${minimal}limits: { maxObjectsPerFile: 100, maxBytesPerRevision: 1048576 }\n`, "gitward.yaml");
    assert.deepEqual(loaded.config.limits, { maxObjectsPerFile: 100, maxBytesPerRevision: 1048576 });
    assert.deepEqual(stackInstances(loaded)[0]?.limits, { maxObjectsPerFile: 100, maxBytesPerRevision: 1048576 });
  });

  it("are positive integers with known names", () => {
    assert.deepEqual(issues(`${minimal}limits: { maxObjectsPerFile: 0, maxObjectsPerStak: 5 }\n`), [
      "gitward.yaml:7:30: limits.maxObjectsPerFile: Too small: expected number to be >0",
      'gitward.yaml:7:33: limits.maxObjectsPerStak: unknown key (did you mean "maxObjectsPerStack"?)',
    ]);
  });
});
