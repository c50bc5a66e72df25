import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import { agentConfigSchema } from "../../src/agent/config.ts";
import { agentLogger } from "../../src/agent/logger.ts";
import { runAgent, type RunningAgent } from "../../src/agent/run.ts";
import { KubeClient } from "../../src/providers/kubernetes/client.ts";
import type { SyncRow } from "../../src/store/store.ts";
import { runCli } from "../support/cli.ts";
import { testCluster, type TestCluster } from "../support/fake-apiserver.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";
import { encryptDotenv, encryptYaml, makeAgeKey } from "../support/sops-encrypt.ts";
import { until } from "../support/until.ts";

const ns = `gw-scan-${process.pid}`;
const planted = (what: string): string => `gw-planted-${what}-${randomBytes(8).toString("hex")}`;
/** Values only Git's encrypted files hold (and the targets, once applied). */
const secrets = { data: planted("data"), stringData: planted("stringdata"), configMap: planted("configmap"), hostFile: planted("hostfile") };
/** A value someone wrote into the live Secret by hand: diffs must not show it either. */
const handEdit = planted("hand-edit");
const all = [...Object.values(secrets), handEdit];

/** Each planted value in the forms a leak could take: as is, base64, base64 without padding, JSON-escaped. */
function needles(): { value: string; form: string }[] {
  return all.flatMap((value) => {
    const b64 = Buffer.from(value).toString("base64");
    return [{ value, form: value }, { value, form: b64 }, { value, form: b64.replace(/=+$/, "") }];
  });
}

/** The planted values found in `bytes` (as text, and as the base64 forms). */
function leaks(bytes: Buffer | string): string[] {
  const text = typeof bytes === "string" ? bytes : bytes.toString("latin1");
  return [...new Set(needles().filter((n) => text.includes(n.form)).map((n) => n.value))];
}

/** Every regular file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : e.isFile() ? [p] : [];
  });
}

describe("no planted SOPS plaintext reaches any output, file, store or inventory; the targets get it", () => {
  let work: string;
  let cluster: TestCluster;
  let client: KubeClient;
  let repo: TestRepo;
  let base: string;
  let keyFile: string;
  const outputs: { what: string; text: string }[] = [];
  const hostRoot = (): string => join(work, "host");
  const cli = async (what: string, args: readonly string[]): Promise<number> => {
    const r = await runCli([...args, "--repo", repo.dir, "--env", "dev", "--kubeconfig", cluster.kubeconfigPath, "--context", cluster.context, "--cache-dir", join(work, "cli-cache")], {
      env: { SOPS_AGE_KEY_FILE: keyFile, SOPS_AGE_KEY: "", GNUPGHOME: join(work, "gnupg") },
    });
    outputs.push({ what: `${what} stdout`, text: r.stdout }, { what: `${what} stderr`, text: r.stderr });
    return r.code;
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), "gw-sops-scan-"));
    mkdirSync(hostRoot());
    mkdirSync(join(work, "gnupg"), { mode: 0o700 });
    const key = await makeAgeKey();
    keyFile = join(work, "dev.agekey");
    writeFileSync(keyFile, key.keyFile, { mode: 0o600 });
    cluster = await testCluster();
    client = await KubeClient.connect({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.context });
    await client.create({ group: "", version: "v1", resource: "namespaces", kind: "Namespace" }, { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    const opts = { recipients: [key.recipient], encryptedRegex: "^(data|stringData|password)$" };
    repo = makeRepo();
    base = repo.commit({
      "gitward.yaml": `version: 1
environments:
  dev:
    sync: { auto: true }
    targets:
      cluster: { provider: kubernetes }
      host: { provider: host, root: ${hostRoot()} }
stacks:
  app: { target: cluster, path: app, namespace: ${ns} }
  files: { target: host, path: files }
`,
      "app/.keep.yaml": "",
      "files/.keep.yaml": "",
    }, "empty stacks");
    repo.commit({
      "app/secret.yaml": await encryptYaml({
        apiVersion: "v1", kind: "Secret", metadata: { name: "creds" },
        data: { token: Buffer.from(secrets.data).toString("base64") }, stringData: { password: secrets.stringData },
      }, opts),
      "app/settings.yaml": await encryptYaml({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings" }, data: { color: "blue", password: secrets.configMap } },
        { ...opts, encryptedRegex: "^password$" }),
      "files/app-env.yaml": "apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata: { name: app-env }\nspec:\n  path: app.env\n  source: app.env.enc\n",
      "files/app.env.enc": await encryptDotenv({ API_KEY: secrets.hostFile, MODE: "production" }, { recipients: [key.recipient] }),
    }, "encrypted secrets");
  });
  after(async () => {
    await client.delete({ group: "", version: "v1", resource: "namespaces", kind: "Namespace", name: ns }, {}).catch(() => undefined);
    client.close();
    await cluster.close();
    repo.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it("applies, diffs a live change, plans and renders: the targets hold the values", async () => {
    assert.equal(await cli("apply", ["apply", "--state", `sqlite:${join(work, "cli-state.db")}`, "-o", "json"]), 0, JSON.stringify(outputs.slice(-2)));
    const secret = (await client.getJson(`/api/v1/namespaces/${ns}/secrets/creds`)) as { data: Record<string, string> };
    assert.deepEqual(leaks(JSON.stringify(secret)).sort(), [secrets.data, secrets.stringData].sort(), "the scan finds what the live Secret holds");
    assert.equal(Buffer.from(secret.data["password"] ?? "", "base64").toString(), secrets.stringData);
    const cm = (await client.getJson(`/api/v1/namespaces/${ns}/configmaps/settings`)) as { data: Record<string, string> };
    assert.equal(cm.data["password"], secrets.configMap);
    assert.ok(readFileSync(join(hostRoot(), "app.env"), "utf8").includes(`API_KEY=${secrets.hostFile}`));
    assert.deepEqual(leaks(readFileSync(join(hostRoot(), "app.env"))), [secrets.hostFile]);

    await client.request({
      method: "PATCH", path: `/api/v1/namespaces/${ns}/secrets/creds`, contentType: "application/merge-patch+json", query: { fieldManager: "kubectl-edit" },
      body: JSON.stringify({ data: { token: Buffer.from(handEdit).toString("base64") } }),
    });
    writeFileSync(join(hostRoot(), "app.env"), `API_KEY=${handEdit}\n`);
    assert.equal(await cli("diff", ["diff", "--detailed-exitcode"]), 2, "the diff shows the live changes");
    assert.match(outputs.at(-2)?.text ?? "", /\*\*\* \(changed\)/);
    assert.equal(await cli("diff -o json", ["diff", "-o", "json", "--detailed-exitcode"]), 2);
    await cli("plan", ["plan", "--base", base]);
    await cli("plan -o json", ["plan", "--base", base, "-o", "json"]);
    assert.equal(await cli("render", ["render"]), 0);
    assert.equal(await cli("render --decrypt", ["render", "--decrypt"]), 0);
    assert.equal(await cli("render --decrypt -o json", ["render", "--decrypt", "-o", "json"]), 0);
    // Applying again repairs the hand edits (and records a second sync).
    assert.equal(await cli("apply again", ["apply", "--state", `sqlite:${join(work, "cli-state.db")}`]), 0);
  });

  it("runs the agent and reads its API: history, stacks, a stack's view and diff, drift, audit", async () => {
    const logs = new PassThrough();
    let logText = "";
    logs.on("data", (d: Buffer) => { logText += d.toString(); });
    const running: RunningAgent = await runAgent({
      config: agentConfigSchema.parse({
        cacheDir: join(work, "agent-cache"), concurrency: 2, api: { anonymousRead: true },
        intervals: { poll: 3600, drift: 3600, retryBase: 0.2, retryMax: 1, dependencyWait: 0.1 },
        targets: { cluster: { kubeconfig: cluster.kubeconfigPath, context: cluster.context } },
        decryption: { dev: { ageKeyFile: keyFile } },
      }),
      repo: repo.dir, branch: "main", state: `sqlite:${join(work, "agent-state.db")}`, listen: "127.0.0.1:0", healthTimeoutSeconds: 20,
      logger: agentLogger({ level: "debug", pretty: false, destination: logs }),
    });
    try {
      const get = async (path: string): Promise<string> => {
        const res = await fetch(`${running.url}${path}`);
        const body = await res.text();
        outputs.push({ what: `GET ${path} (${res.status})`, text: body });
        return body;
      };
      const rows = await until("both stacks synced by the agent", async () => {
        const items = (JSON.parse(await get("/api/v1/history?limit=50")) as { items: SyncRow[] }).items;
        const done = items.filter((r) => r.outcome !== "running");
        return done.length >= 2 ? done : undefined;
      }, 60_000);
      assert.deepEqual(rows.map((r) => `${r.stack}:${r.outcome}`).sort(), ["app:succeeded", "files:succeeded"], JSON.stringify(rows.map((r) => r.error)));
      for (const r of rows) await get(`/api/v1/history?stack=${r.stack}&environment=dev`);
      for (const path of ["/api/v1/status", "/api/v1/stacks", "/api/v1/environments", "/api/v1/drift", "/api/v1/audit", "/api/v1/gate",
        "/api/v1/environments/dev/stacks/app", "/api/v1/environments/dev/stacks/app/diff", "/api/v1/environments/dev/stacks/files", "/api/v1/environments/dev/stacks/files/diff"]) {
        await get(path);
      }
    } finally {
      await running.stop();
    }
    outputs.push({ what: "agent logs (debug)", text: logText });
    assert.ok(logText.length > 0, "the agent logged");
    for (const db of ["cli-state.db", "agent-state.db"]) {
      const r = await runCli(["audit", "verify", "--state", `sqlite:${join(work, db)}`]);
      outputs.push({ what: `audit verify ${db}`, text: r.stdout + r.stderr });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /audit log intact: [1-9]\d* record/);
    }
  });

  it("finds no planted value in any output, API body or log", () => {
    assert.ok(outputs.length > 20);
    const found = outputs.flatMap((o) => leaks(o.text).map((v) => `${o.what}: ${v}`));
    assert.deepEqual(found, []);
  });

  it("finds none in the cache and state directories, the SQLite databases, the host target's records or the inventory", async () => {
    const files = [...filesUnder(join(work, "cli-cache")), ...filesUnder(join(work, "agent-cache")), ...filesUnder(join(hostRoot(), ".gitward")),
      ...readdirSync(work).filter((f) => f.includes("state.db")).map((f) => join(work, f))];
    assert.ok(files.some((f) => f.endsWith("agent-state.db")) && files.some((f) => f.includes("cli-cache")), files.join("\n"));
    const found = files.flatMap((f) => leaks(readFileSync(f)).map((v) => `${f} (${statSync(f).size} bytes): ${v}`));
    assert.deepEqual(found, []);
    const inventory = await client.getJson("/api/v1/namespaces/gitward-system/configmaps");
    assert.match(JSON.stringify(inventory), /"stack\\":\\"app\\"|inventory/, "the inventory exists");
    assert.deepEqual(leaks(JSON.stringify(inventory)), []);
  });
});
