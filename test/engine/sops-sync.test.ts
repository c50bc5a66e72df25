import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { syncEnvironment, type SyncResult } from "../../src/engine/sync-environment.ts";
import { testWorkspace, type TestWorkspace } from "../support/engine.ts";
import { MemoryTarget } from "../support/memory-provider.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";
import { encryptYaml, makeAgeKey, type AgeTestKey } from "../support/sops-encrypt.ts";

const planted = "gw-planted-7c1e9b42";
const gitwardYaml = `version: 1
environments:
  dev:
    vars: { color: blue }
    targets: { cluster: { provider: kubernetes } }
stacks:
  app: { target: cluster, path: app }
`;

describe("syncing a stack with SOPS data through the engine (what apply and the agent share)", () => {
  let repo: TestRepo;
  let tw: TestWorkspace;
  let key: AgeTestKey;
  let target: MemoryTarget;
  const saved = process.env["SOPS_AGE_KEY"];
  const sync = (): Promise<SyncResult> => syncEnvironment({
    source: tw.ws.source, rev: "HEAD", configPath: "gitward.yaml", renderer: tw.ws.renderer, check: tw.ws.check, configCache: tw.ws.configCache,
    environment: "dev", dryRun: false, force: false, providers: { kubernetes: target.provider() }, providerContext: {},
  });

  before(async () => {
    key = await makeAgeKey();
    process.env["SOPS_AGE_KEY"] = key.identity;
    // A custom resource with an encrypted field, and a clear annotation that looks like a variable.
    const doc = {
      apiVersion: "example.com/v1", kind: "Database", metadata: { name: "orders", namespace: "shop", annotations: { note: "color is ${color}" } },
      spec: { host: "db.internal", password: planted },
    };
    const text = await encryptYaml(doc, { recipients: [key.recipient], encryptedRegex: "^password$" });
    repo = makeRepo();
    repo.commit({ "gitward.yaml": gitwardYaml, "app/db.yaml": text });
    tw = await testWorkspace(repo.dir, { noSchema: true });
  });
  after(async () => {
    if (saved === undefined) delete process.env["SOPS_AGE_KEY"];
    else process.env["SOPS_AGE_KEY"] = saved;
    await tw.close();
    repo.remove();
  });

  it("masks a decrypted value that the target quotes in a failure, wherever the result goes", async () => {
    target = new MemoryTarget();
    target.failApply = 1;
    // As an API server's validation error quotes the value it refused.
    target.failMessage = (d) => `spec.password: Invalid value: ${JSON.stringify((d.object["spec"] as Record<string, unknown>)["password"])}`;
    const result = await sync();
    assert.equal(result.ok, false);
    const text = JSON.stringify(result);
    // The message is kept, the value is not (the text masker also takes the word after "password:").
    assert.match(text, /"message":"app\/db\.yaml:1:1: spec\.password: \*\*\* value: \\"\*\*\*\\""/);
    assert.doesNotMatch(text, new RegExp(planted));
  });

  it("applies the value in clear, and leaves ${…} in a SOPS document alone (its MAC covers it)", async () => {
    target = new MemoryTarget();
    const result = await sync();
    assert.equal(result.ok, true, JSON.stringify(result.stacks));
    const live = [...target.objects.values()][0];
    assert.equal((live?.["spec"] as Record<string, unknown>)["password"], planted);
    const meta = live?.["metadata"] as { annotations: Record<string, string> };
    assert.equal(meta.annotations["note"], "color is ${color}");
    assert.equal(live?.["sops"], undefined);
  });
});
