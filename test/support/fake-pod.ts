import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadKubeCredentials } from "../../src/providers/kubernetes/kubeconfig.ts";
import type { TestCluster } from "./fake-apiserver.ts";

/**
 * What a process running in a pod of a test cluster sees: a service-account directory (token,
 * CA, namespace) under `prefix`, as `loadFromCluster(prefix)` reads it, and the variables the
 * kubelet sets. The "cluster" is an HTTPS front door, with a certificate the CA signs, that admits
 * only the service-account token and forwards to the test cluster (the fake API server, or a real
 * one through GITWARD_TEST_KUBECONFIG) with that cluster's own credentials.
 */
export interface FakePod {
  /** Give to `serviceAccountPrefix`: the service account lives at `${prefix}/var/run/secrets/kubernetes.io/serviceaccount`. */
  readonly prefix: string;
  /** `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT`. */
  readonly env: Readonly<Record<string, string>>;
  /** The server URL the in-cluster configuration names. */
  readonly server: string;
  /** Requests the front door admitted (with the service-account token). */
  readonly admitted: () => number;
  /** Requests it refused (another token or none). */
  readonly refused: () => number;
  close(): Promise<void>;
}

/** Starts a {@link FakePod} in front of `cluster`. Needs `openssl` (as the agent TLS tests do). */
export async function startFakePod(cluster: TestCluster, namespace = "gitward"): Promise<FakePod> {
  const prefix = mkdtempSync(join(tmpdir(), "gitward-pod-"));
  const saDir = join(prefix, "var/run/secrets/kubernetes.io/serviceaccount");
  mkdirSync(saDir, { recursive: true });
  const key = join(prefix, "tls.key");
  const cert = join(prefix, "tls.crt");
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
    "-subj", "/CN=kubernetes", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert], { stdio: "ignore" });
  writeFileSync(join(saDir, "ca.crt"), readFileSync(cert));
  writeFileSync(join(saDir, "namespace"), namespace);
  const token = `sa-${randomBytes(16).toString("hex")}`;
  writeFileSync(join(saDir, "token"), token);
  const upstream = await loadKubeCredentials({ kubeconfigPath: cluster.kubeconfigPath, context: cluster.context });
  const target = new URL(cluster.server);
  let admitted = 0;
  let refused = 0;
  const server = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    if (req.headers.authorization !== `Bearer ${token}`) {
      refused++;
      res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", reason: "Unauthorized", code: 401 }));
      return;
    }
    admitted++;
    forward(req, res, target, upstream).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    prefix,
    env: { KUBERNETES_SERVICE_HOST: "127.0.0.1", KUBERNETES_SERVICE_PORT: String(port) },
    server: `https://127.0.0.1:${port}`,
    admitted: () => admitted,
    refused: () => refused,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

/** Sends the request on with the cluster's credentials, streaming both bodies (watches too). */
async function forward(req: http.IncomingMessage, res: http.ServerResponse, target: URL, creds: Awaited<ReturnType<typeof loadKubeCredentials>>): Promise<void> {
  const { authorization: _dropped, host: _host, ...headers } = req.headers;
  const opts: https.RequestOptions = { method: req.method ?? "GET", path: req.url ?? "/", headers: { ...headers }, hostname: target.hostname, port: target.port };
  await creds.applyToHTTPSOptions(opts);
  const send = target.protocol === "https:" ? https.request : http.request;
  const out = send(opts, (up) => {
    res.writeHead(up.statusCode ?? 502, up.headers);
    up.pipe(res);
  });
  out.on("error", () => res.destroy());
  req.pipe(out);
}
