import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { GitwardError } from "../../src/core/errors.ts";
import type { RenderedObject } from "../../src/core/object.ts";
import { isRecord } from "../../src/core/object.ts";
import { decryptForTarget, type DecryptedObject } from "../../src/engine/decrypt-stage.ts";
import { loadKeyring } from "../../src/sops/keyring.ts";
import type { KeySources } from "../../src/sops/types.ts";
import { testWorkspace, type TestWorkspace } from "../support/engine.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

const flux = fileURLToPath(new URL("../fixtures/sops/fluxcd-kustomize-controller/", import.meta.url));
const fixture = (p: string): string => readFileSync(join(flux, p), "utf8");
const keys = (over: Partial<KeySources> = {}): KeySources => ({
  ageKeyFiles: [join(flux, "keys/age.txt"), join(flux, "keys/age-pq.txt")], ageKeys: [], pgpKeyFiles: [join(flux, "keys/pgp.asc")], gpg: false, ...over,
});

const gitwardYaml = `version: 1
environments:
  dev:
    targets:
      cluster: { provider: kubernetes }
      web: { provider: host, root: /tmp/unused }
stacks:
  plain: { target: cluster, path: plain, namespace: ns1 }
  kz: { target: cluster, path: kz }
  site: { target: web, path: site }
`;
const kustomization = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: kz
commonLabels: { team: payments }
resources: [merge1.yaml]
patches: [{ path: merge2.yaml }]
secretGenerator:
  - name: from-env
    envs: [env.env]
  - name: from-file
    files: [file.txt]
generatorOptions: { disableNameSuffixHash: true }
`;
const hostFiles = `apiVersion: host.gitward.dev/v1alpha1
kind: File
metadata: { name: env }
spec: { path: app/app.env, source: env.env }
---
apiVersion: host.gitward.dev/v1alpha1
kind: File
metadata: { name: text }
spec: { path: app/file.txt, source: file.txt, mode: "0640" }
`;

describe("decrypting rendered stacks before they reach a target", () => {
  let repo: TestRepo;
  let tw: TestWorkspace;
  const rendered = new Map<string, readonly RenderedObject[]>();
  const decrypt = async (stack: string, sources = keys()): Promise<DecryptedObject[]> =>
    decryptForTarget(rendered.get(stack) ?? [], { environment: "dev", keyring: () => loadKeyring(sources), keyHint: "SOPS_AGE_KEY_FILE" });
  const byName = (objects: readonly DecryptedObject[], name: string): DecryptedObject => {
    const found = objects.find((o) => o.ref.name === name);
    assert.ok(found !== undefined, `object ${name}`);
    return found;
  };

  before(async () => {
    repo = makeRepo();
    repo.commit({
      "gitward.yaml": gitwardYaml,
      "plain/age.yaml": fixture("algorithms/age.yaml"), "plain/age-pq.yaml": fixture("algorithms/age-pq.yaml"), "plain/pgp.yaml": fixture("algorithms/pgp.yaml"),
      "plain/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: plain }\ndata: { a: b }\n",
      "kz/kustomization.yaml": kustomization, "kz/merge1.yaml": fixture("patches/merge1.yaml"), "kz/merge2.yaml": fixture("patches/merge2.yaml"),
      "kz/env.env": fixture("envs/env.env"), "kz/file.txt": fixture("files/file.txt"),
      "site/files.yaml": hostFiles, "site/env.env": fixture("envs/env.env"), "site/file.txt": fixture("files/file.txt"),
    });
    tw = await testWorkspace(repo.dir);
    const evaluation = await tw.evaluate();
    for (const r of evaluation.renders) {
      assert.ok(r.ok, `${r.instance.stack} renders: ${r.ok ? "" : r.error.message}`);
      rendered.set(r.instance.stack, r.objects);
    }
  });
  after(async () => {
    await tw.close();
    repo.remove();
  });

  it("renders without decrypting: the objects keep their ciphertext", () => {
    const age = (rendered.get("plain") ?? []).find((o) => o.ref.name === "age");
    assert.match(JSON.stringify(age?.object), /ENC\[AES256_GCM/);
    assert.equal(age?.object["metadata"] && (age.object["metadata"] as Record<string, unknown>)["namespace"], "ns1", "the namespace was defaulted after encryption");
  });

  it("decrypts age (X25519 and post-quantum) and PGP Secrets whose namespace was defaulted, and leaves other objects alone", async () => {
    const objects = await decrypt("plain");
    for (const name of ["age", "age-pq", "pgp"]) {
      const o = byName(objects, name);
      assert.deepEqual(o.object["stringData"], { key: "value" });
      assert.equal(o.object["sops"], undefined);
      assert.deepEqual(o.secretFields, ["stringData.key"]);
    }
    assert.deepEqual(byName(objects, "plain").object["data"], { a: "b" });
  });

  it("decrypts kustomize output: a Secret relabelled and merged from two encrypted files, and generated Secrets from a SOPS dotenv and binary file", async () => {
    const objects = await decrypt("kz");
    const merged = objects.find((o) => o.ref.name === "secret");
    assert.ok(merged !== undefined);
    assert.deepEqual(merged.object["stringData"], { key: "merge1", merge2: "merge2" });
    const meta = merged.object["metadata"] as Record<string, unknown>;
    assert.equal(meta["namespace"], "kz");
    assert.deepEqual(meta["labels"], { team: "payments" });
    const env = byName(objects, "from-env");
    assert.deepEqual(env.object["data"], { key: Buffer.from("value").toString("base64") });
    const file = byName(objects, "from-file");
    const data = file.object["data"];
    assert.ok(isRecord(data));
    assert.equal(typeof data["file.txt"], "string");
    assert.equal(Buffer.from(data["file.txt"] as string, "base64").toString("utf8"), "value");
  });

  it("decrypts host File sources, marks them sensitive, and makes them private unless Git sets a mode", async () => {
    const objects = await decrypt("site");
    const env = byName(objects, "env").object["spec"] as Record<string, unknown>;
    assert.equal(env["content"], "key=value\n");
    assert.equal(env["mode"], "0600");
    assert.equal(env["sensitive"], true);
    const text = byName(objects, "text").object["spec"] as Record<string, unknown>;
    assert.equal(text["content"], "value");
    assert.equal(text["mode"], "0640");
  });

  it("refuses a stack when no key opens a file, naming the file, the object and the recipients, never a value", async () => {
    await assert.rejects(decrypt("plain", keys({ ageKeyFiles: [join(flux, "keys/age-global.txt")], pgpKeyFiles: [] })), (e: unknown) => {
      assert.ok(e instanceof GitwardError);
      assert.match(e.message, /Secret\/ns1\/age(-pq)?: cannot decrypt its SOPS data: .*age1/);
      assert.match(e.subject?.location?.file ?? "", /^plain\/(age|age-pq)\.yaml$/);
      assert.equal(e.subject?.location?.line, 1);
      assert.match(e.hint ?? "", /SOPS_AGE_KEY_FILE/);
      assert.doesNotMatch(`${e.message} ${e.hint ?? ""}`, /value/);
      return true;
    });
  });

  it("loads no key for a stack without encrypted data", async () => {
    let asked = false;
    const objects = (rendered.get("plain") ?? []).filter((o) => o.ref.kind === "ConfigMap");
    const out = await decryptForTarget(objects, { environment: "dev", keyring: () => { asked = true; return loadKeyring(keys()); }, keyHint: "" });
    assert.equal(out.length, 1);
    assert.equal(asked, false);
  });
});
