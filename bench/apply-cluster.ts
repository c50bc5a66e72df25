/**
 * The clusters the apply benchmark runs against and the raw HTTP side of it: the fake API
 * server started in a child process (https, see apply-fake-server.ts), or a real cluster from a
 * kubeconfig; a bare keep-alive client with the kubeconfig's credentials for namespaces, the raw
 * server-side-apply loop (the floor) and a raw LIST.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import https from "node:https";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import type { KObject } from "../src/core/object.ts";
import { fakeReadyPrefix, type FakeEndpoint } from "./apply-fake-server.ts";
import { benchKinds, collectionPathOf } from "./apply-fixture.ts";

/** A cluster to measure against. */
export interface BenchCluster {
  /** `fake` or `real`, for the tables. */
  readonly label: string;
  readonly kubeconfig: string;
  readonly context: string;
  readonly server: string;
  close(): Promise<void>;
}

/**
 * Starts the fake in its own process, serving https with a certificate made here with openssl
 * (kubectl sends no credentials over plain http), and waits for its address.
 */
export async function startFakeCluster(workDir: string): Promise<BenchCluster> {
  const cert = join(workDir, "fake-cert.pem");
  const key = join(workDir, "fake-key.pem");
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
    "-days", "2", "-subj", "/CN=gitward-bench-fake", "-addext", "subjectAltName=IP:127.0.0.1",
  ], { stdio: "ignore", timeout: 30_000 });
  const kubeconfig = join(workDir, "fake-kubeconfig");
  const child = spawn(process.execPath, [join(import.meta.dirname, "apply-fake-server.ts"), kubeconfig, "--tls", cert, key], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const endpoint = await readyLine(child);
  return {
    label: "fake",
    kubeconfig,
    context: endpoint.context,
    server: endpoint.url,
    close: () => stopChild(child),
  };
}

function readyLine(child: ChildProcess): Promise<FakeEndpoint> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the fake API server did not start within 30 s")), 30_000);
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      if (!line.startsWith(fakeReadyPrefix)) return;
      clearTimeout(timer);
      resolve(JSON.parse(line.slice(fakeReadyPrefix.length)) as FakeEndpoint);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the fake API server exited (${String(code)}) before it was ready`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.stdin?.end();
    setTimeout(() => child.kill("SIGTERM"), 5000).unref();
  });
}

/** A real cluster from `GITWARD_BENCH_KUBECONFIG` (and `GITWARD_BENCH_CONTEXT`); nothing to stop. */
export async function realCluster(kubeconfig: string, context: string | undefined): Promise<BenchCluster> {
  const { KubeConfig } = await import("@kubernetes/client-node");
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  if (context !== undefined && context !== "") kc.setCurrentContext(context);
  const server = kc.getCurrentCluster()?.server ?? "";
  return { label: "real", kubeconfig, context: kc.getCurrentContext(), server, close: () => Promise.resolve() };
}

/** One answer of {@link RawApi.request}. */
export interface RawAnswer {
  readonly status: number;
  readonly body: string;
}

/**
 * A bare client: credentials and TLS read from the kubeconfig once, one keep-alive agent, no
 * rate limit, no retries, no parsing beyond what the caller asks. What nothing can beat.
 */
export class RawApi {
  private readonly base: string;
  private readonly tls: https.RequestOptions;
  private readonly agent: http.Agent;

  private constructor(base: string, tls: https.RequestOptions, maxSockets: number) {
    this.base = base.replace(/\/+$/, "");
    this.tls = tls;
    const opts = { keepAlive: true, maxSockets };
    this.agent = base.startsWith("https:") ? new https.Agent(opts) : new http.Agent(opts);
  }

  /** Loads credentials for the cluster; `maxSockets` bounds the connections. */
  static async connect(cluster: BenchCluster, maxSockets: number): Promise<RawApi> {
    const { KubeConfig } = await import("@kubernetes/client-node");
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    kc.setCurrentContext(cluster.context);
    const tls: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(tls);
    delete tls.agent;
    return new RawApi(cluster.server, tls, maxSockets);
  }

  /**
   * Sends one request and reads the whole answer. A kept-alive connection the server closed
   * while idle fails at once with ECONNRESET; that one attempt is repeated, as every client does.
   */
  async request(method: string, path: string, body?: string, contentType = "application/json"): Promise<RawAnswer> {
    try {
      return await this.once(method, path, body, contentType);
    } catch (err: unknown) {
      if ((err as { code?: unknown; reusedSocket?: unknown }).code !== "ECONNRESET" || (err as { reusedSocket?: unknown }).reusedSocket !== true) throw err;
      return this.once(method, path, body, contentType);
    }
  }

  private once(method: string, path: string, body: string | undefined, contentType: string): Promise<RawAnswer> {
    const url = new URL(this.base + path);
    const transport = url.protocol === "https:" ? https : http;
    const headers: Record<string, string> = { ...(this.tls.headers as Record<string, string> | undefined), Accept: "application/json" };
    if (body !== undefined) {
      headers["Content-Type"] = contentType;
      headers["Content-Length"] = String(Buffer.byteLength(body));
    }
    return new Promise((resolve, reject) => {
      const req = transport.request(url, { ...this.tls, method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.on("error", (err) => reject(Object.assign(err, { reusedSocket: req.reusedSocket })));
      req.end(body);
    });
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }
}

/** Creates a namespace (not timed: every tool gets a fresh one that exists). */
export async function createNamespace(api: RawApi, name: string): Promise<void> {
  const res = await api.request("POST", "/api/v1/namespaces", JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name } }));
  if (res.status !== 201) throw new Error(`create namespace ${name}: ${res.status} ${res.body.slice(0, 300)}`);
}

/** Deletes a namespace and waits until it is gone, so the next repetition starts from the same store size. */
export async function deleteNamespace(api: RawApi, name: string, timeoutMs = 120_000): Promise<void> {
  const res = await api.request("DELETE", `/api/v1/namespaces/${name}`);
  if (res.status !== 200 && res.status !== 202 && res.status !== 404) throw new Error(`delete namespace ${name}: ${res.status} ${res.body.slice(0, 300)}`);
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if ((await api.request("GET", `/api/v1/namespaces/${name}`)).status === 404) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`namespace ${name} still there after ${timeoutMs} ms`);
}

/** Deletes one object; a missing one is fine. */
export async function deleteObject(api: RawApi, path: string): Promise<void> {
  const res = await api.request("DELETE", path);
  if (res.status >= 300 && res.status !== 404) throw new Error(`delete ${path}: ${res.status} ${res.body.slice(0, 300)}`);
}

/** What the raw loop saw. */
export interface RawApplyOutcome {
  readonly created: number;
  readonly updated: number;
}

/**
 * The floor: one server-side-apply PATCH per ConfigMap, `concurrency` at once over keep-alive
 * connections, nothing read first and nothing parsed but the status. Throws on any failure.
 */
export async function rawApply(api: RawApi, objects: readonly KObject[], concurrency: number, fieldManager: string): Promise<RawApplyOutcome> {
  let next = 0;
  let created = 0;
  let updated = 0;
  const worker = async (): Promise<void> => {
    while (next < objects.length) {
      const o = objects[next++] as KObject;
      const meta = o["metadata"] as { name: string; namespace: string };
      const path = `${collectionPathOf(o["kind"] as string, meta.namespace)}/${meta.name}?fieldManager=${fieldManager}`;
      const res = await api.request("PATCH", path, JSON.stringify(o), "application/apply-patch+yaml");
      if (res.status === 201) created++;
      else if (res.status === 200) updated++;
      else throw new Error(`raw apply ${meta.namespace}/${meta.name}: ${res.status} ${res.body.slice(0, 300)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { created, updated };
}

/** The LISTs of a namespace's fixture kinds (pages of up to 500, as clients page), parsed; returns the item count. */
export async function rawList(api: RawApi, namespace: string): Promise<number> {
  let items = 0;
  for (const kind of Object.keys(benchKinds)) {
    for (const _ of await listItems(api, collectionPathOf(kind, namespace))) items++;
  }
  return items;
}

/**
 * The resourceVersion of every fixture object in a namespace, by `Kind/name`: taken before and
 * after an unchanged re-apply, equal maps prove it wrote nothing.
 */
export async function objectVersions(api: RawApi, namespace: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const kind of Object.keys(benchKinds)) {
    for (const item of await listItems(api, collectionPathOf(kind, namespace))) out.set(`${kind}/${item.metadata.name}`, item.metadata.resourceVersion);
  }
  return out;
}

async function listItems(api: RawApi, path: string): Promise<{ metadata: { name: string; resourceVersion: string } }[]> {
  const items: { metadata: { name: string; resourceVersion: string } }[] = [];
  let cont: string | undefined;
  do {
    const q = `limit=500${cont === undefined ? "" : `&continue=${encodeURIComponent(cont)}`}`;
    const res = await api.request("GET", `${path}?${q}`);
    if (res.status !== 200) throw new Error(`list ${path}: ${res.status} ${res.body.slice(0, 300)}`);
    const body = JSON.parse(res.body) as { items: { metadata: { name: string; resourceVersion: string } }[]; metadata?: { continue?: string } };
    items.push(...body.items);
    cont = body.metadata?.continue === "" ? undefined : body.metadata?.continue;
  } while (cont !== undefined);
  return items;
}
