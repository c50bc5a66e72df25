/**
 * What SOPS decryption costs a sync (issue 16; target: under 1 s added to a sync of a stack of
 * 1,000 small encrypted Secrets). One stack of `--count` Secrets, one file each, each encrypted
 * for one age recipient with its own data key (test/support/sops-encrypt.ts, as `sops` does);
 * the same objects as ConfigMaps with the values in clear are the baseline (a Secret in clear
 * fails the secret.plaintext check, which --override-policy does not lift). The whole-apply
 * difference therefore also holds what Secrets cost over ConfigMaps; the in-process rows are
 * decryption alone.
 *
 * Measured: `decryptForTarget` over the rendered objects in this process, cold (a new keyring,
 * so every data key is unwrapped: one X25519 age decryption per file) and warm (the keyring
 * kept, as the agent keeps it); and whole `gitward apply` processes against the fake API server
 * (in its own process, https), first apply (create) and no-op re-applies, with and without
 * encryption.
 *
 *   node bench/sops.bench.ts [--count 1000] [--reps 5]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { decryptForTarget } from "../src/engine/decrypt-stage.ts";
import { evaluateRevision } from "../src/engine/evaluate-revision.ts";
import { openWorkspace } from "../src/engine/workspace.ts";
import { loadKeyring } from "../src/sops/keyring.ts";
import type { SopsKeyring } from "../src/sops/types.ts";
import { makeRepo, type TestRepo } from "../test/support/repo.ts";
import { encryptYaml, makeAgeKey } from "../test/support/sops-encrypt.ts";
import { createNamespace, RawApi, startFakeCluster, type BenchCluster } from "./apply-cluster.ts";
import { cliApply, type CliRun } from "./apply-tools.ts";
import { markdownTable, summarize, type ResultRow } from "./stats.ts";

const environment = "bench";

function gitwardYaml(namespace: string): string {
  return `version: 1
environments:
  ${environment}:
    targets: { cluster: { provider: kubernetes } }
stacks:
  secrets: { target: cluster, path: secrets, namespace: ${namespace} }
`;
}

/** A repository with one stack of `count` objects, encrypted Secrets or clear ConfigMaps. */
async function makeStackRepo(count: number, recipient: string | undefined, namespace: string): Promise<TestRepo> {
  const repo = makeRepo();
  const files: Record<string, string> = { "gitward.yaml": gitwardYaml(namespace) };
  for (let i = 0; i < count; i++) {
    const data = { username: `user-${i}`, password: `password-${i}-${"x".repeat(24)}` };
    const name = `s${String(i).padStart(4, "0")}`;
    files[`secrets/${name}.yaml`] = recipient === undefined
      ? `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  username: ${data.username}\n  password: ${data.password}\n`
      : await encryptYaml({ apiVersion: "v1", kind: "Secret", metadata: { name }, stringData: data }, { recipients: [recipient], encryptedRegex: "^(data|stringData)$" });
  }
  repo.commit(files, "generated");
  return repo;
}

async function timeDecrypt(repo: TestRepo, keyFile: string, reps: number, count: number): Promise<{ cold: number[]; warm: number[] }> {
  const ws = await openWorkspace({ repo: repo.dir, cacheDir: join(repo.dir, ".bench-cache"), noCache: true, allowRemoteBases: false, noSchema: true });
  try {
    const result = await evaluateRevision({ source: ws.source, rev: "HEAD", configPath: "gitward.yaml", filter: {}, renderer: ws.renderer, check: ws.check, configCache: ws.configCache, renderOnly: true });
    const render = result.renders[0];
    if (render === undefined || !render.ok || render.objects.length !== count) throw new Error(`render: expected ${count} objects`);
    const sources = { ageKeyFiles: [keyFile], ageKeys: [], pgpKeyFiles: [], gpg: false } as const;
    const once = async (keyring: () => Promise<SopsKeyring>): Promise<number> => {
      const t0 = performance.now();
      const out = await decryptForTarget(render.objects, { environment, keyring, keyHint: "bench" });
      const ms = performance.now() - t0;
      if (out.length !== count || out.some((o) => JSON.stringify(o.object).includes("ENC["))) throw new Error("decryptForTarget left ciphertext");
      return ms;
    };
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < reps; i++) cold.push(await once(() => loadKeyring(sources)));
    const kept = loadKeyring(sources);
    await once(() => kept);
    for (let i = 0; i < reps; i++) warm.push(await once(() => kept));
    return { cold, warm };
  } finally {
    await ws.close();
  }
}

async function timeApplies(run: CliRun, count: number, reps: number): Promise<{ create: number; noop: number[] }> {
  const create = await cliApply(run, environment, count, "created");
  const noop: number[] = [];
  for (let i = 0; i < reps; i++) noop.push(await cliApply(run, environment, count, "unchanged"));
  return { create, noop };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { count: { type: "string", default: "1000" }, reps: { type: "string", default: "5" } } });
  const count = Number(values.count);
  const reps = Number(values.reps);
  const work = mkdtempSync(join(tmpdir(), "gw-sops-bench-"));
  const repos: TestRepo[] = [];
  let cluster: BenchCluster | undefined;
  try {
    const key = await makeAgeKey();
    const keyFile = join(work, "bench.agekey");
    writeFileSync(keyFile, key.keyFile, { mode: 0o600 });
    let t0 = performance.now();
    const enc = await makeStackRepo(count, key.recipient, "sops-enc");
    repos.push(enc);
    process.stderr.write(`encrypted ${count} files in ${Math.round(performance.now() - t0)} ms\n`);
    const clear = await makeStackRepo(count, undefined, "sops-clear");
    repos.push(clear);

    const decrypt = await timeDecrypt(enc, keyFile, reps, count);
    mkdirSync(join(work, "fake"));
    cluster = await startFakeCluster(join(work, "fake"));
    const api = await RawApi.connect(cluster, 8);
    for (const ns of ["sops-enc", "sops-clear"]) await createNamespace(api, ns);
    process.env["SOPS_AGE_KEY_FILE"] = keyFile;
    t0 = performance.now();
    const entry = join(import.meta.dirname, "../src/cli/main.ts");
    const encApply = await timeApplies({ entry, repo: enc.dir, cacheDir: join(work, "cache-enc"), cluster }, count, reps);
    const clearApply = await timeApplies({ entry, repo: clear.dir, cacheDir: join(work, "cache-clear"), cluster }, count, reps);
    process.stderr.write(`applies done in ${Math.round(performance.now() - t0)} ms\n`);

    const rows: ResultRow[] = [
      { run: `decryptForTarget, cold (new keyring)`, measured: `${count} Secrets, in process`, ms: summarize(decrypt.cold), targetMs: 1000, objects: count },
      { run: `decryptForTarget, warm (keyring kept)`, measured: `${count} Secrets, in process`, ms: summarize(decrypt.warm), objects: count },
      { run: "gitward apply, encrypted, first (create)", measured: "whole process", ms: summarize([encApply.create]), objects: count },
      { run: "gitward apply, clear, first (create)", measured: "whole process", ms: summarize([clearApply.create]), objects: count },
      { run: "gitward apply, encrypted, no-op", measured: "whole process", ms: summarize(encApply.noop), objects: count },
      { run: "gitward apply, clear, no-op", measured: "whole process", ms: summarize(clearApply.noop), objects: count },
    ];
    process.stdout.write(markdownTable(rows));
    const added = summarize(encApply.noop).median - summarize(clearApply.noop).median;
    process.stdout.write(`\nno-op apply, encrypted minus clear (medians): ${Math.round(added)} ms (target < 1000 ms ${added < 1000 ? "✅" : "❌"})\n`);
  } finally {
    await cluster?.close();
    for (const r of repos) r.remove();
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) await main();
