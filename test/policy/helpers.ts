import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { ConfigError, formatConfigIssue } from "../../src/config/config-error.ts";
import type { KObject, RenderedObject } from "../../src/core/object.ts";
import { refOf } from "../../src/core/object.ts";
import { loadPolicies, type BuiltinSelection, type PolicyContext, type PolicyLimits, type PolicySet } from "../../src/policy/index.ts";

/** A rendered object as the renderer hands it over. */
export function rendered(object: KObject, file = "apps/web/objects.yaml", line = 1): RenderedObject {
  const ref = refOf(object);
  assert.ok(ref !== undefined, "fixture objects need apiVersion, kind and metadata.name");
  return { object, ref, apiVersion: typeof object["apiVersion"] === "string" ? object["apiVersion"] : "", source: { file, line } };
}

/** Reads a fixture object from test/policy/fixtures/<name>.yaml. */
export function fixture(name: string): RenderedObject {
  const text = readFileSync(new URL(`fixtures/${name}.yaml`, import.meta.url), "utf8");
  return rendered(parse(text) as KObject, `fixtures/${name}.yaml`);
}

/** A policy context for an environment and a stack. */
export function context(environment = "dev", stack = "web", vars: Record<string, string> = {}): PolicyContext {
  return { environment: { name: environment, vars }, stack: { name: stack, target: "cluster", namespace: "web" } };
}

/** Loads policies from in-memory files. */
export function load(
  files: Record<string, string>,
  builtins: readonly BuiltinSelection[] = [],
  limits?: PolicyLimits,
  known?: { environments: string[]; stacks: string[] },
): PolicySet {
  return loadPolicies({
    files: new Map(Object.entries(files).map(([k, v]) => [k, Buffer.from(v)])),
    builtins,
    configFile: "gitward.yaml",
    ...(limits === undefined ? {} : { limits }),
    ...(known === undefined ? {} : { known }),
  });
}

/** The formatted issues `load` throws, failing the test when it does not throw. */
export function loadIssues(files: Record<string, string>, builtins: readonly BuiltinSelection[] = [], known?: { environments: string[]; stacks: string[] }): string[] {
  try {
    load(files, builtins, undefined, known);
  } catch (e: unknown) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e.issues.map(formatConfigIssue);
  }
  return assert.fail("expected the policies to be refused");
}

/** A policy document with the given name and spec body (YAML, indented under `spec:`). */
export function policy(name: string, spec: string): string {
  return `apiVersion: policy.gitward.dev/v1alpha1
kind: Policy
metadata:
  name: ${name}
spec:
${spec.replace(/^\n/, "").replace(/\s+$/, "")}
`;
}
