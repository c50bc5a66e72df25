import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { KObject } from "../../src/core/object.ts";
import { sameObject } from "../../src/plan/object-diff.ts";
import { testWorkspace, type TestWorkspace } from "../support/engine.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

const hostFile = (spec: KObject): KObject => ({ apiVersion: "host.gitward.dev/v1alpha1", kind: "File", metadata: { name: "f" }, spec: { path: "f.txt", content: "hi", ...spec } });
const hostDir = (spec: KObject): KObject => ({ apiVersion: "host.gitward.dev/v1alpha1", kind: "Directory", metadata: { name: "d" }, spec: { path: "d", ...spec } });
const configMap = (data: KObject): KObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "x" }, data });

describe("sameObject: a provider's default written out is no change", () => {
  const cases: [string, KObject, KObject, boolean][] = [
    ["a File's mode left out and written as the default", hostFile({}), hostFile({ mode: "0644" }), true],
    ["a mode with and without its leading zero", hostFile({ mode: "644" }), hostFile({ mode: "0644" }), true],
    ["a File's mode other than the default", hostFile({}), hostFile({ mode: "0640" }), false],
    ["a Directory's mode left out and written as the default", hostDir({}), hostDir({ mode: "0755" }), true],
    ["a Directory's purge left out and written as false", hostDir({}), hostDir({ purge: false }), true],
    ["a File's sensitive left out and written as false", hostFile({}), hostFile({ sensitive: false }), true],
    ["a File made sensitive", hostFile({}), hostFile({ sensitive: true }), false],
    ["a Directory's purge turned on", hostDir({}), hostDir({ purge: true }), false],
    ["an owner as a number and as a string", hostFile({ owner: 33 }), hostFile({ owner: "33" }), true],
    ["a path with and without ./", hostFile({ path: "./f.txt" }), hostFile({}), true],
    ["different content", hostFile({}), hostFile({ content: "ho" }), false],
    ["an unquoted mode the provider refuses, against the default", hostFile({ mode: 644 }), hostFile({ mode: "0644" }), false],
    ["Kubernetes objects: compared as written", configMap({ a: "1" }), configMap({ a: "1" }), true],
    ["Kubernetes objects that differ", configMap({ a: "1" }), configMap({ a: "2" }), false],
  ];
  for (const [name, a, b, same] of cases) {
    it(`${same ? "same" : "different"}: ${name}`, () => {
      assert.equal(sameObject(a, b), same);
      assert.equal(sameObject(b, a), same);
    });
  }
});

describe("plan of a host File that spells out its default mode", () => {
  let repo: TestRepo;
  let t: TestWorkspace;
  let base: string;
  before(async () => {
    repo = makeRepo();
    const file = (extra: string): string => `apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata: { name: index }\nspec:\n  path: index.html\n  content: hello\n${extra}`;
    base = repo.commit({
      "gitward.yaml": "version: 1\nenvironments:\n  dev:\n    targets: { web: { provider: host, root: /srv/www } }\nstacks:\n  site: { target: web, path: site }\n",
      "site/index.yaml": file(""),
    });
    repo.commit({ "site/index.yaml": file('  mode: "0644"\n') });
    t = await testWorkspace(repo.dir);
  });
  after(async () => {
    await t.close();
    repo.remove();
  });

  it("is unchanged, as apply will report it", async () => {
    const outcome = await t.plan(base);
    assert.deepEqual(outcome.plan?.counts, { create: 0, update: 0, delete: 0, orphan: 0, unchanged: 1 });
  });
});
