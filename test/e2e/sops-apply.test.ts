import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { KubeClient } from "../../src/providers/kubernetes/client.ts";
import { projectRoot, runCli, type CliRun } from "../support/cli.ts";
import { testCluster, type TestCluster } from "../support/fake-apiserver.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";
import { encryptYaml, makeAgeKey, tamper, type AgeTestKey } from "../support/sops-encrypt.ts";

const ns = `gw-sops-${process.pid}`;
const flux = join(projectRoot, "test/fixtures/sops/fluxcd-kustomize-controller");
const fx = (p: string): string => readFileSync(join(flux, p), "utf8");
const fluxAge = "age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29";
const cm = (name: string): string => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  color: blue\n`;
const stack = (name: string, extra = `, namespace: ${ns}`): string => `  ${name}: { target: cluster, path: ${name}${extra} }\n`;
const gitwardYaml = `version: 1
environments:
  dev:
    targets: { cluster: { provider: kubernetes } }
stacks:
${["age", "pgp", "plain", "tampered", "planned"].map((s) => stack(s)).join("")}${stack("kust", "")}`;
const kustomization = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: ${ns}
commonLabels: { team: sops }
resources: [merge1.yaml]
patches:
  - path: merge2.yaml
`;

interface Live {
  data?: Record<string, string>;
  metadata: { labels?: Record<string, string> };
}

describe("gitward apply, diff, plan and render with SOPS-encrypted objects", () => {
  let cluster: TestCluster;
  let repo: TestRepo;
  let work: string;
  let emptyGpg: string;
  let client: KubeClient;
  let planKeys: [AgeTestKey, AgeTestKey];
  // By default a run has no key at all: no age variables, and a GnuPG home with no key.
  const cli = (args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> =>
    runCli([...args, "--repo", repo.dir, "--env", "dev", "--kubeconfig", cluster.kubeconfigPath, "--context", cluster.context, "--cache-dir", join(work, "cache"), "-q"], {
      env: { SOPS_AGE_KEY_FILE: "", SOPS_AGE_KEY: "", GNUPGHOME: emptyGpg, ...env },
    });
  const withAge = { SOPS_AGE_KEY_FILE: join(flux, "keys/age.txt") };
  const live = async (kind: "secrets" | "configmaps", name: string): Promise<Live | undefined> =>
    (await client.getJson(`/api/v1/namespaces/${ns}/${kind}/${name}`).catch(() => undefined)) as Live | undefined;
  const liveValue = async (name: string, key: string): Promise<string | undefined> => {
    const v = (await live("secrets", name))?.data?.[key];
    return v === undefined ? undefined : Buffer.from(v, "base64").toString("utf8");
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "gw-sops-e2e-"));
    emptyGpg = mkdtempSync(join(tmpdir(), "gw-gpg-empty-"));
    cluster = await testCluster();
    client = await KubeClient.connect({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.context });
    await client.create({ group: "", version: "v1", resource: "namespaces", kind: "Namespace" }, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    planKeys = [await makeAgeKey(), await makeAgeKey()];
    repo = makeRepo();
    repo.commit({
      "gitward.yaml": gitwardYaml,
      "age/secret.yaml": fx("algorithms/age.yaml"),
      "age/cm.yaml": cm("age-cm"),
      "pgp/secret.yaml": fx("algorithms/pgp.yaml"),
      "plain/cm.yaml": cm("plain-cm"),
      "kust/kustomization.yaml": kustomization,
      "kust/merge1.yaml": fx("patches/merge1.yaml"),
      "kust/merge2.yaml": fx("patches/merge2.yaml"),
      "tampered/cm.yaml": cm("tampered-cm"),
      "planned/.keep.yaml": "",
    });
  });
  after(async () => {
    await client.delete({ group: "", version: "v1", resource: "namespaces", kind: "Namespace", name: ns }, {}).catch(() => undefined);
    client.close();
    await cluster.close();
    repo.remove();
    rmSync(work, { recursive: true, force: true });
    rmSync(emptyGpg, { recursive: true, force: true });
  });

  it("without any key refuses the stack, naming file:line, object and recipients, and still applies another stack", async () => {
    const r = await cli(["apply", "--stack", "age,plain"]);
    assert.notEqual(r.code, 0, r.stdout + r.stderr);
    const out = r.stdout + r.stderr;
    assert.match(out, new RegExp(`age/secret\\.yaml:1:1: Secret/${ns}/age: cannot decrypt its SOPS data: .*age ${fluxAge}`));
    assert.match(out, /hint: give this runner a private key of one of those recipients for environment dev: SOPS_AGE_KEY_FILE/);
    assert.equal(await live("configmaps", "age-cm"), undefined, "nothing of the refused stack is applied");
    assert.equal(await live("secrets", "age"), undefined);
    assert.ok(await live("configmaps", "plain-cm"), "the other stack of dev is applied");
  });

  it("with another environment's key gives the same clear refusal", async () => {
    const r = await cli(["apply", "--stack", "age"], { SOPS_AGE_KEY_FILE: join(flux, "keys/age-global.txt") });
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, new RegExp(`Secret/${ns}/age: cannot decrypt its SOPS data: .*age ${fluxAge}`));
    assert.equal(await live("configmaps", "age-cm"), undefined);
  });

  for (const which of ["value", "mac"] as const) {
    it(`refuses a file whose ${which} was tampered with, applying nothing of its stack`, async () => {
      repo.commit({ "tampered/secret.yaml": tamper(fx("algorithms/age.yaml"), which) });
      const r = await cli(["apply", "--stack", "tampered"], withAge);
      assert.notEqual(r.code, 0);
      assert.match(r.stdout + r.stderr, new RegExp(`tampered/secret\\.yaml:1:1: Secret/${ns}/age: cannot decrypt its SOPS data: .*(changed|integrity)`));
      assert.doesNotMatch(r.stdout + r.stderr, /\bvalue\b.*\bvalue\b/);
      assert.equal(await live("configmaps", "tampered-cm"), undefined);
    });
  }

  it("applies an age-encrypted Secret in a stack with a namespace, decrypted", async () => {
    const r = await cli(["apply", "--stack", "age"], withAge);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(await liveValue("age", "key"), "value");
    assert.ok(await live("configmaps", "age-cm"));
    assert.doesNotMatch(r.stdout + r.stderr, /\bvalue\b/);
  });

  it("applies a PGP-encrypted Secret with the key in a GnuPG home", async () => {
    const home = mkdtempSync(join(tmpdir(), "gw-gpg-"));
    try {
      execFileSync("gpg", ["--batch", "--quiet", "--import", join(flux, "keys/pgp.asc")], { env: { ...process.env, GNUPGHOME: home }, stdio: "ignore" });
      const r = await cli(["apply", "--stack", "pgp"], { GNUPGHOME: home });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(await liveValue("pgp", "key"), "value");
    } finally {
      execFileSync("gpgconf", ["--kill", "gpg-agent"], { env: { ...process.env, GNUPGHOME: home }, stdio: "ignore" });
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("applies a kustomize stack whose encrypted Secret is patched by another encrypted file", async () => {
    const r = await cli(["apply", "--stack", "kust"], withAge);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(await liveValue("secret", "key"), "merge1");
    assert.equal(await liveValue("secret", "merge2"), "merge2");
    assert.equal((await live("secrets", "secret"))?.metadata.labels?.["team"], "sops");
  });

  it("diff shows a Secret changed by someone else as changed, never either value", async () => {
    await client.request({
      method: "PATCH", path: `/api/v1/namespaces/${ns}/secrets/age`, contentType: "application/merge-patch+json", query: { fieldManager: "kubectl-edit" },
      body: JSON.stringify({ data: { key: Buffer.from("hand-edited-secret").toString("base64") } }),
    });
    const r = await cli(["diff", "--stack", "age"], withAge);
    assert.match(r.stdout, /~ Secret\/.*\/age/);
    assert.match(r.stdout, /\*\*\* \(changed\)/);
    const all = r.stdout + r.stderr;
    for (const v of ["hand-edited-secret", Buffer.from("hand-edited-secret").toString("base64"), "dmFsdWU=", ": value"]) assert.ok(!all.includes(v), `diff shows ${v}`);
  });

  it("plan says (secret changed) for a new value and (re-encrypted only) when a recipient was removed", async () => {
    const secret = (password: string): Promise<string> =>
      encryptYaml({ apiVersion: "v1", kind: "Secret", metadata: { name: "planned" }, stringData: { password } },
        { recipients: planKeys.map((k) => k.recipient), encryptedRegex: "^(data|stringData)$" });
    const base = repo.commit({ "planned/secret.yaml": await secret("first-password") });
    const changed = repo.commit({ "planned/secret.yaml": await secret("second-password") });
    const text = (await cli(["plan", "--base", base, "--head", changed, "--stack", "planned"])).stdout;
    assert.match(text, /\(secret changed\)/, text);
    // sops updatekeys: the same values and data key, one recipient fewer.
    const doc = parse(readFileSync(join(repo.dir, "planned/secret.yaml"), "utf8")) as { sops: { age: unknown[] } };
    const original = readFileSync(join(repo.dir, "planned/secret.yaml"), "utf8");
    const recipientBlock = original.slice(original.indexOf("  age:\n") + "  age:\n".length, original.indexOf("    - recipient:", original.indexOf("    - recipient:") + 1));
    assert.equal(doc.sops.age.length, 2);
    const rekeyed = repo.commit({ "planned/secret.yaml": original.replace(recipientBlock, "") });
    assert.equal((parse(readFileSync(join(repo.dir, "planned/secret.yaml"), "utf8")) as { sops: { age: unknown[] } }).sops.age.length, 1);
    const plan = await cli(["plan", "--base", changed, "--head", rekeyed, "--stack", "planned"]);
    assert.match(plan.stdout, /\(re-encrypted only\)/, plan.stdout + plan.stderr);
    const json = JSON.parse((await cli(["plan", "--base", base, "--head", rekeyed, "--stack", "planned", "-o", "json"])).stdout) as unknown;
    const changes = JSON.stringify(json);
    assert.match(changes, /"secret":"changed"/);
    for (const v of ["first-password", "second-password"]) assert.ok(!(text + plan.stdout + changes).includes(v));
  });

  it("render prints ciphertext; --decrypt masks; --decrypt --show-secrets shows; --show-secrets alone is refused", async () => {
    const plain = await cli(["render", "--stack", "age"], withAge);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /key: ENC\[AES256_GCM,data:/);
    const masked = await cli(["render", "--stack", "age", "--decrypt"], withAge);
    assert.equal(masked.code, 0, masked.stderr);
    assert.doesNotMatch(masked.stdout, /ENC\[|key: value/);
    assert.match(masked.stdout, /key: "?\*\*\*"?/);
    const shown = await cli(["render", "--stack", "age", "--decrypt", "--show-secrets"], withAge);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /key: value/);
    const refused = await cli(["render", "--stack", "age", "--show-secrets"], withAge);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /--show-secrets .*needs --decrypt/);
    const nokey = await cli(["render", "--stack", "age", "--decrypt"]);
    assert.notEqual(nokey.code, 0);
    assert.match(nokey.stderr, new RegExp(`cannot decrypt its SOPS data: .*age ${fluxAge}`));
  });
});
