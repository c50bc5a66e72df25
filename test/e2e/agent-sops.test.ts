import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { agentConfigSchema } from "../../src/agent/config.ts";
import { agentLogger } from "../../src/agent/logger.ts";
import { runAgent, type RunningAgent } from "../../src/agent/run.ts";
import { KubeClient } from "../../src/providers/kubernetes/client.ts";
import type { SyncRow } from "../../src/store/store.ts";
import { testCluster, type TestCluster } from "../support/fake-apiserver.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";
import { encryptYaml, makeAgeKey, tamper, type AgeTestKey } from "../support/sops-encrypt.ts";
import { until } from "../support/until.ts";

const ns = `gw-agent-sops-${process.pid}`;
const gitwardYaml = `version: 1
environments:
  dev:
    targets: { cluster: { provider: kubernetes } }
    sync: { auto: true }
stacks:
  app: { target: cluster, path: app, namespace: ${ns} }
`;

describe("gitward agent with SOPS-encrypted Secrets and decryption.<env> keys", () => {
  let work: string;
  let cluster: TestCluster;
  let client: KubeClient;
  let repo: TestRepo;
  let running: RunningAgent;
  let key: AgeTestKey;
  const first = `agent-first-${randomBytes(6).toString("hex")}`;
  const secret = (password: string): Promise<string> =>
    encryptYaml({ apiVersion: "v1", kind: "Secret", metadata: { name: "db" }, stringData: { password } }, { recipients: [key.recipient], encryptedRegex: "^(data|stringData)$" });
  const history = async (): Promise<SyncRow[]> => ((await (await fetch(`${running.url}/api/v1/history?limit=50`)).json()) as { items: SyncRow[] }).items;
  const livePassword = async (): Promise<string | undefined> => {
    const s = (await client.getJson(`/api/v1/namespaces/${ns}/secrets/db`).catch(() => undefined)) as { data?: { password?: string } } | undefined;
    const v = s?.data?.password;
    return v === undefined ? undefined : Buffer.from(v, "base64").toString("utf8");
  };
  const syncOf = (sha: string): Promise<SyncRow> =>
    until(`a finished sync of ${sha.slice(0, 12)}`, async () => (await history()).find((r) => r.revision.sha === sha && r.outcome !== "running"), 60_000);

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "gw-agent-sops-"));
    key = await makeAgeKey();
    const keyFile = join(work, "dev.agekey");
    writeFileSync(keyFile, key.keyFile, { mode: 0o600 });
    cluster = await testCluster();
    client = await KubeClient.connect({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.context });
    await client.create({ group: "", version: "v1", resource: "namespaces", kind: "Namespace" }, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    repo = makeRepo();
    repo.commit({ "gitward.yaml": gitwardYaml, "app/secret.yaml": await secret(first) }, "v1");
    running = await runAgent({
      config: agentConfigSchema.parse({
        cacheDir: join(work, "cache"), concurrency: 2, api: { anonymousRead: true },
        intervals: { poll: 1, drift: 3600, retryBase: 0.2, retryMax: 1, dependencyWait: 0.1 },
        targets: { cluster: { kubeconfig: cluster.kubeconfigPath, context: cluster.context } },
        decryption: { dev: { ageKeyFile: keyFile } },
      }),
      repo: repo.dir, branch: "main", state: `sqlite:${join(work, "state.db")}`, listen: "127.0.0.1:0", healthTimeoutSeconds: 20,
      logger: agentLogger({ level: process.env["GITWARD_TEST_LOG"] ?? "silent", pretty: false }),
    });
  });
  after(async () => {
    await running.stop();
    await client.delete({ group: "", version: "v1", resource: "namespaces", kind: "Namespace", name: ns }, {}).catch(() => undefined);
    client.close();
    await cluster.close();
    repo.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it("syncs the encrypted Secret decrypted with the environment's key, recorded as succeeded", async () => {
    const row = await syncOf(repo.git("rev-parse", "HEAD"));
    assert.equal(row.outcome, "succeeded", row.error);
    assert.equal(await livePassword(), first);
  });

  it("refuses a tampered commit with the clear message, keeping the live Secret as it was", async () => {
    const sha = repo.commit({ "app/secret.yaml": tamper(await secret(`agent-second-${randomBytes(6).toString("hex")}`), "value") }, "v2 tampered");
    const row = await syncOf(sha);
    assert.equal(row.outcome, "failed");
    const text = `${row.error ?? ""} ${row.objects.map((o) => o.message ?? "").join(" ")}`;
    assert.match(text, new RegExp(`app/secret\\.yaml:1:1: Secret/${ns}/db: cannot decrypt its SOPS data: .*(changed|integrity)`), text);
    assert.doesNotMatch(text, /agent-(first|second)-/);
    assert.equal(await livePassword(), first);
  });
});
