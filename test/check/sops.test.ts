import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { checkSops, type SopsRecipients } from "../../src/check/sops.ts";
import type { Finding } from "../../src/check/finding.ts";
import type { KObject, RenderedObject } from "../../src/core/object.ts";
import { isRecord, refOf } from "../../src/core/object.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const fixtures = join(repoRoot, "test/fixtures/sops");
const shared = join(repoRoot, "../shared/sops");

/** Every file under a directory, relative path -> content. */
const filesOf = (dir: string): Map<string, string> => new Map(
  readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
    .map((e) => { const p = join(e.parentPath, e.name); return [relative(dir, p), readFileSync(p, "utf8")]; }),
);

function rendered(object: KObject, file = "app/secret.yaml"): RenderedObject {
  const kind = typeof object["kind"] === "string" ? object["kind"] : "";
  const apiVersion = typeof object["apiVersion"] === "string" ? object["apiVersion"] : "";
  return { object, ref: refOf(object) ?? { group: "", kind, name: "" }, apiVersion, source: { file, line: 1 } };
}

/** A fixture file parsed (YAML is a superset of JSON). */
const load = (path: string): KObject => parse(readFileSync(join(fixtures, path), "utf8")) as KObject;
const rules = (findings: readonly Finding[]): string[] => findings.map((f) => `${f.severity} ${f.rule} ${f.field ?? ""}`);

const devAge = "age1henwn645drkd3fa34t27t2w2x0nsgw3w4h62gmg5x5xflyjpy38s5cncph";
const prodAge = "age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29";
const recipients: SopsRecipients = new Map([["dev", [devAge]], ["prod", [prodAge]]]);

describe("the SOPS test files", () => {
  it("kept in test/fixtures are the shared ones, file for file", () => {
    const copy = filesOf(fixtures);
    assert.ok(copy.has("README.md") && copy.has("fluxcd-kustomize-controller/global/secret.yaml") && copy.size > 100, "the copy is complete");
    // Where shared/ is beside the checkout, the copy must not have drifted from it.
    if (existsSync(join(shared, "README.md"))) assert.deepEqual(copy, filesOf(shared));
  });

  const sopsFiles = [...filesOf(fixtures).keys()]
    .filter((p) => /\.(ya?ml|json)$/.test(p) && !p.includes("/expected/") && !p.includes("/keys/"))
    .filter((p) => isRecord(load(p)["sops"]));

  it("finds the YAML and JSON SOPS files (plain Secrets holding a nested sops document are not)", () => {
    assert.equal(sopsFiles.length, 21);
    assert.ok(!sopsFiles.includes("fluxcd-kustomize-controller/inside/secret.yaml"));
  });

  for (const path of sopsFiles) {
    it(`${path}: ${path.endsWith("no_mac.yaml") ? "refused, it has no MAC" : "metadata complete, no value in clear"}`, () => {
      const findings = checkSops(rendered(load(path), path), "dev", new Map());
      if (path.endsWith("no_mac.yaml")) assert.deepEqual(rules(findings), ["error sops.metadata sops"]);
      else assert.deepEqual(findings, []);
    });
  }
});

describe("checkSops", () => {
  const devSecret = (): KObject => load("fluxcd-kustomize-controller/global/secret.yaml");
  const sopsOf = (o: KObject): Record<string, unknown> => o["sops"] as Record<string, unknown>;

  it("accepts a file encrypted for the environment's recipient, and ignores objects without a sops section", () => {
    assert.deepEqual(checkSops(rendered(devSecret()), "dev", recipients), []);
    assert.deepEqual(checkSops(rendered({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" }, data: { a: "b" } }), "prod", recipients), []);
  });

  it("refuses a file encrypted only for dev's recipient where prod uses it, naming both", () => {
    const findings = checkSops(rendered(devSecret()), "prod", recipients);
    assert.deepEqual(rules(findings), ["error sops.recipient sops.age[0].recipient"]);
    assert.match(findings[0]?.message ?? "", new RegExp(`^encrypted for ${devAge} \\(dev's\\), not for prod's recipients`));
    assert.match(findings[0]?.hint ?? "", /environments\.prod\.sops\.recipients/);
  });

  it("reports an extra recipient the environment does not allow", () => {
    const o = devSecret();
    const age = sopsOf(o)["age"] as object[];
    age.push({ recipient: "age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw", enc: "-----BEGIN AGE ENCRYPTED FILE-----\n..." });
    const findings = checkSops(rendered(o), "dev", recipients);
    assert.deepEqual(rules(findings), ["error sops.recipient sops.age[1].recipient"]);
    assert.match(findings[0]?.message ?? "", /^encrypted for age1yt3tf\S+, which dev does not allow/);
  });

  it("compares PGP fingerprints whatever their case", () => {
    const o = load("fluxcd-kustomize-controller/legacy/secret.yaml");
    assert.deepEqual(checkSops(rendered(o), "dev", new Map([["dev", ["35c1a64cd7fc0ab6eb66756b2445463c3234ece1"]]])), []);
    assert.deepEqual(rules(checkSops(rendered(o), "dev", new Map([["dev", [devAge]]]))), ["error sops.recipient sops.pgp[0].fp"]);
  });

  it("reports a stripped MAC, a MAC that is not ENC[...], and missing lastmodified and version", () => {
    const o = devSecret();
    delete sopsOf(o)["mac"];
    delete sopsOf(o)["version"];
    assert.deepEqual(rules(checkSops(rendered(o), "dev", recipients)), ["error sops.metadata sops", "error sops.metadata sops"]);
    const p = devSecret();
    sopsOf(p)["mac"] = "0123ABCD";
    delete sopsOf(p)["lastmodified"];
    const findings = checkSops(rendered(p), "dev", recipients);
    assert.deepEqual(rules(findings), ["error sops.metadata sops.mac", "error sops.metadata sops"]);
    assert.match(findings[1]?.message ?? "", /lastmodified/);
  });

  it("reports a missing key group, and a malformed entry", () => {
    const o = devSecret();
    delete sopsOf(o)["age"];
    const findings = checkSops(rendered(o), "prod", recipients);
    assert.deepEqual(rules(findings), ["error sops.metadata sops"]);
    assert.match(findings[0]?.message ?? "", /no age or pgp key group/);
    const p = devSecret();
    sopsOf(p)["age"] = [{ recipient: devAge }];
    assert.deepEqual(rules(checkSops(rendered(p), "dev", recipients)), ["error sops.metadata sops.age[0]", "error sops.metadata sops"]);
  });

  it("warns that KMS keys are not supported yet, and does not ask for an age group then", () => {
    const o = devSecret();
    delete sopsOf(o)["age"];
    sopsOf(o)["kms"] = [{ arn: "arn:aws:kms:us-east-1:111122223333:key/x", enc: "AQE..." }];
    const findings = checkSops(rendered(o), "dev", recipients);
    assert.deepEqual(rules(findings), ["warning sops.unsupported sops.kms"]);
    assert.match(findings[0]?.message ?? "", /does not support kms yet/);
  });

  it("reports a value in clear where the rules say encrypted, without repeating the value", () => {
    const o = devSecret();
    (o["stringData"] as Record<string, unknown>)["password"] = "hunter2-in-clear";
    const findings = checkSops(rendered(o), "dev", recipients);
    assert.deepEqual(rules(findings), ["error sops.plaintext stringData.password"]);
    assert.match(findings[0]?.message ?? "", /encrypted_regex \^\(data\|stringData\)\$/);
    assert.doesNotMatch(JSON.stringify(findings), /hunter2/);
    // Outside encrypted_regex, clear values are what the file means.
    (o["metadata"] as Record<string, unknown>)["labels"] = { team: "web" };
    assert.equal(checkSops(rendered(o), "dev", recipients).length, 1);
  });

  it("follows unencrypted_suffix down the subtree, and the default suffix when none is declared", () => {
    const o = load("getsops-sops/example.json");
    o["extra_unencrypted"] = { nested: "clear is fine" };
    assert.deepEqual(checkSops(rendered(o), "dev", new Map()), []);
    o["address"] = { city: "Paris", zip: 75001 };
    assert.deepEqual(rules(checkSops(rendered(o), "dev", new Map())), ["error sops.plaintext address.city"]);
    delete sopsOf(o)["unencrypted_suffix"];
    o["address"] = {};
    o["also_unencrypted"] = 1;
    assert.deepEqual(checkSops(rendered(o), "dev", new Map()), []);
  });

  it("follows unencrypted_regex and encrypted_suffix", () => {
    const o = load("getsops-sops/example.json");
    delete sopsOf(o)["unencrypted_suffix"];
    sopsOf(o)["unencrypted_regex"] = "^public";
    o["publicName"] = "x";
    o["secretName"] = "y";
    assert.deepEqual(rules(checkSops(rendered(o), "dev", new Map())), ["error sops.plaintext secretName"]);
    delete sopsOf(o)["unencrypted_regex"];
    sopsOf(o)["encrypted_suffix"] = "_secret";
    o["token_secret"] = "clear";
    assert.deepEqual(rules(checkSops(rendered(o), "dev", new Map())), ["error sops.plaintext token_secret"]);
  });
});
