import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { findDuplicates } from "../../src/check/duplicates.ts";
import { checkSecrets } from "../../src/check/secrets.ts";
import { checkStructure } from "../../src/check/structure.ts";
import type { KObject, RenderedObject } from "../../src/core/object.ts";
import { refOf } from "../../src/core/object.ts";
import { builtinScopes } from "../../src/render/scopes.ts";

function rendered(object: KObject, file = "app/x.yaml", line = 1): RenderedObject {
  const kind = typeof object["kind"] === "string" ? object["kind"] : "";
  const apiVersion = typeof object["apiVersion"] === "string" ? object["apiVersion"] : "";
  return { object, ref: refOf(object) ?? { group: "", kind, name: "" }, apiVersion, source: { file, line } };
}

const scopes = builtinScopes();

describe("checkStructure", () => {
  const cases: { name: string; obj: KObject; expected: string[] }[] = [
    { name: "a complete object", obj: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } }, expected: [] },
    { name: "no apiVersion", obj: { kind: "ConfigMap", metadata: { name: "a" } }, expected: ["error structure.missing-field apiVersion"] },
    { name: "no kind", obj: { apiVersion: "v1", metadata: { name: "a" } }, expected: ["error structure.missing-field kind"] },
    { name: "no metadata", obj: { apiVersion: "v1", kind: "ConfigMap" }, expected: ["error structure.missing-field metadata"] },
    { name: "no name", obj: { apiVersion: "v1", kind: "ConfigMap", metadata: {} }, expected: ["error structure.missing-field metadata.name"] },
    { name: "generateName", obj: { apiVersion: "batch/v1", kind: "Job", metadata: { generateName: "x-" } }, expected: ["error structure.generate-name metadata.generateName"] },
    { name: "an invalid name", obj: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "Bad_Name" } }, expected: ["error structure.invalid-name metadata.name"] },
    { name: "a namespace on a cluster-scoped kind", obj: { apiVersion: "v1", kind: "Namespace", metadata: { name: "a", namespace: "b" } }, expected: ["warning structure.cluster-scoped-namespace metadata.namespace"] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(checkStructure(rendered(c.obj), scopes).map((f) => `${f.severity} ${f.rule} ${f.field ?? ""}`), c.expected);
    });
  }
});

describe("checkSecrets", () => {
  const cases: { name: string; obj: KObject; expected: string[] }[] = [
    { name: "a Secret with data in clear", obj: { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, data: { password: "aHVudGVyMg==" } }, expected: ["error secret.plaintext data"] },
    { name: "a Secret with stringData in clear", obj: { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, stringData: { password: "hunter2" } }, expected: ["error secret.plaintext stringData"] },
    { name: "a Secret filled only from other stacks' outputs (known after apply when checked)", obj: { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, stringData: { password: "(known after apply)", host: "(known after apply)" } }, expected: [] },
    { name: "a Secret with outputs and a value in clear", obj: { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, stringData: { password: "(known after apply)", user: "admin" } }, expected: ["error secret.plaintext stringData"] },
    { name: "a SOPS-encrypted Secret", obj: { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, data: { password: "ENC[AES256_GCM,data:abc]" }, sops: { version: "3.9" } }, expected: [] },
    { name: "a Secret with a sops section and a value in clear", obj: { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, data: { password: "ENC[AES256_GCM,data:abc]", user: "YWRtaW4=" }, sops: { version: "3.9" } }, expected: ["error secret.plaintext data.user"] },
    { name: "an empty Secret", obj: { apiVersion: "v1", kind: "Secret", metadata: { name: "s" } }, expected: [] },
    { name: "a private key in a ConfigMap", obj: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { key: "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----" } }, expected: ["warning secret.suspicious-value data.key"] },
    { name: "a GitHub token in an env var", obj: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d" }, spec: { template: { spec: { containers: [{ name: "a", env: [{ name: "T", value: "ghp_" + "a".repeat(36) }] }] } } } }, expected: ["warning secret.suspicious-value spec.template.spec.containers[0].env[0].value"] },
    { name: "a password in a URL", obj: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { db: "postgres://app:s3cretpw@db:5432/app" } }, expected: ["warning secret.suspicious-value data.db"] },
    { name: "ordinary values", obj: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { url: "https://example.com/path", image: "ghcr.io/stefanprodan/podinfo:6.7.1" } }, expected: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const found = checkSecrets(rendered(c.obj));
      assert.deepEqual(found.map((f) => `${f.severity} ${f.rule} ${f.field ?? ""}`), c.expected);
      for (const f of found) assert.doesNotMatch(f.message, /hunter2|aHVudGVy|s3cretpw|aaaaaaaa|MIIE/, "a finding never repeats the secret");
    });
  }
});

describe("findDuplicates", () => {
  const a = rendered({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "n" } }, "one/a.yaml", 1);
  const a2 = rendered({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "n" } }, "two/a.yaml", 4);
  const other = rendered({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a", namespace: "m" } }, "two/b.yaml", 1);

  it("finds a duplicate within one stack, naming both files", () => {
    const found = findDuplicates([{ environment: "dev", stack: "one", targetName: "cluster", objects: [a, a2] }]);
    assert.deepEqual(found.map((f) => f.message), ["ConfigMap/n/a is defined twice in stack one: first at one/a.yaml:1"]);
    assert.deepEqual(found[0]?.location, { file: "two/a.yaml", line: 4 });
  });

  it("finds a duplicate across stacks sharing a target", () => {
    const found = findDuplicates([
      { environment: "dev", stack: "one", targetName: "cluster", objects: [a] },
      { environment: "dev", stack: "two", targetName: "cluster", objects: [a2, other] },
    ]);
    assert.deepEqual(found.map((f) => f.message), ["ConfigMap/n/a is defined twice in stacks one and two (target cluster): first at one/a.yaml:1"]);
  });

  it("allows the same object in different targets or environments", () => {
    assert.deepEqual(findDuplicates([
      { environment: "dev", stack: "one", targetName: "cluster", objects: [a] },
      { environment: "dev", stack: "two", targetName: "other-cluster", objects: [a2] },
      { environment: "prod", stack: "one", targetName: "cluster", objects: [a] },
    ]), []);
  });
});
