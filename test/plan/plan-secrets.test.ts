import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Change } from "../../src/plan/change.ts";
import { planToText, type TextStyle } from "../../src/plan/format-text.ts";
import { testWorkspace, type TestWorkspace } from "../support/engine.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

const fixtures = fileURLToPath(new URL("../fixtures/sops/", import.meta.url));
const fixture = (p: string): string => readFileSync(join(fixtures, p), "utf8");
const gitwardYaml = `version: 1
environments:
  dev:
    targets:
      cluster: { provider: kubernetes }
      web: { provider: host, root: /tmp/unused }
stacks:
  app: { target: cluster, path: app }
  site: { target: web, path: site }
`;
const file = "apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata: { name: env }\nspec: { path: app.env, source: app.env }\n";
// A real sops file encrypted for two age recipients.
const twoRecipients = fixture("getsops-sops/age-pr1031/example.yaml");
const env = fixture("fluxcd-kustomize-controller/envs/env.env");

/** The same file with one character of its first ENC data changed: a changed ciphertext. */
const editValue = (text: string): string => text.replace(/ENC\[AES256_GCM,data:(.)/, (_m, c: string) => `ENC[AES256_GCM,data:${c === "A" ? "B" : "A"}`);

describe("offline plans of SOPS-encrypted objects, without keys", () => {
  let repo: TestRepo;
  let tw: TestWorkspace;
  let base: string;
  const change = async (from: string, to: string, name: string): Promise<Change> => {
    const outcome = await tw.plan(from, to);
    const found = outcome.plan?.environments.flatMap((e) => e.stacks).flatMap((s) => s.changes).find((c) => c.ref.name === name);
    assert.ok(found !== undefined, `a change of ${name}`);
    return found;
  };

  before(async () => {
    repo = makeRepo();
    base = repo.commit({ "gitward.yaml": gitwardYaml, "app/example.yaml": twoRecipients, "site/file.yaml": file, "site/app.env": env });
    tw = await testWorkspace(repo.dir);
  });
  after(async () => {
    await tw.close();
    repo.remove();
  });

  it("says (secret changed) for an edited encrypted value, and shows neither ciphertext", async () => {
    const head = repo.commit({ "app/example.yaml": editValue(twoRecipients) });
    const c = await change(base, head, "");
    assert.equal(c.action, "update");
    assert.equal(c.secret, "changed");
    assert.doesNotMatch(c.diff ?? "", /ENC\[/);
    assert.match(c.diff ?? "", /\*\*\* \(changed\)/);
  });

  it("says (re-encrypted only) when only the recipients changed", async () => {
    // Drop the second age recipient: values, MAC and data key untouched (as sops updatekeys does).
    const lines = twoRecipients.split("\n");
    const second = lines.findIndex((l, i) => i > lines.findIndex((x) => x.includes("recipient:")) && l.includes("- recipient:"));
    assert.ok(second > 0, "the fixture has two age recipients");
    const end = lines.findIndex((l, i) => i > second && /^\s{4}\S/.test(l) && !l.includes("-----") && !/^\s+- /.test(l));
    const head = repo.commit({ "app/example.yaml": [...lines.slice(0, second), ...lines.slice(end)].join("\n") });
    const c = await change(base, head, "");
    assert.equal(c.secret, "re-encrypted");
    const id = (t: string): string => t;
    const plain: TextStyle = { green: id, yellow: id, red: id, cyan: id, dim: id, bold: id };
    const text = planToText((await tw.plan(base, head)).plan!, plain);
    assert.match(text, /\(re-encrypted only\)/);
  });

  it("masks a host File's SOPS source and tells a changed value from a re-encryption", async () => {
    const changed = repo.commit({ "site/app.env": editValue(env), "app/example.yaml": twoRecipients });
    const c = await change(base, changed, "env");
    assert.equal(c.secret, "changed");
    assert.doesNotMatch(c.diff ?? "", /ENC\[|sops_mac/);
    const reencrypted = repo.commit({ "site/app.env": env.replace(/^sops_lastmodified=.*$/m, "sops_lastmodified=2030-01-01T00:00:00Z") });
    assert.equal((await change(base, reencrypted, "env")).secret, "re-encrypted");
  });
});
