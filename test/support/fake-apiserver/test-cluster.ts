import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FakeApiServer, FakeApiServerOptions } from "./server.ts";
import { startFakeApiServer } from "./server.ts";
import type { KubeconfigSpec } from "./kubeconfig.ts";
import { writeKubeconfig } from "./kubeconfig.ts";

/** A cluster for a test: the fake API server, or a real one when GITWARD_TEST_KUBECONFIG is set. */
export interface TestCluster {
  readonly kubeconfigPath: string;
  readonly context: string;
  /** The API server URL. */
  readonly server: string;
  /** The fake, when the test runs against it; undefined against a real cluster. */
  readonly fake: FakeApiServer | undefined;
  /** Writes a kubeconfig for the same cluster with another bearer token and returns its path. */
  kubeconfigWithToken(token: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Gives a test a cluster. With `GITWARD_TEST_KUBECONFIG` set (and optionally
 * `GITWARD_TEST_CONTEXT`) the test runs against that real cluster; otherwise a fake API server
 * is started with `opts` and a kubeconfig written for it.
 */
export async function testCluster(opts: FakeApiServerOptions = {}): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), "gitward-cluster-"));
  const realPath = process.env["GITWARD_TEST_KUBECONFIG"];
  try {
    if (realPath !== undefined && realPath !== "") return await realCluster(dir, realPath);
    return await fakeCluster(dir, opts);
  } catch (err: unknown) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function fakeCluster(dir: string, opts: FakeApiServerOptions): Promise<TestCluster> {
  const fake = await startFakeApiServer(opts);
  const kubeconfigPath = join(dir, "kubeconfig");
  await writeKubeconfig(kubeconfigPath, { server: fake.url, token: fake.token, context: "fake" });
  return {
    kubeconfigPath,
    context: "fake",
    server: fake.url,
    fake,
    kubeconfigWithToken: (token) => writeVariant(dir, { server: fake.url, token, context: "fake" }),
    async close() {
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function realCluster(dir: string, kubeconfigPath: string): Promise<TestCluster> {
  const { KubeConfig } = await import("@kubernetes/client-node");
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const wanted = process.env["GITWARD_TEST_CONTEXT"];
  if (wanted !== undefined && wanted !== "") kc.setCurrentContext(wanted);
  const context = kc.getCurrentContext();
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error(`GITWARD_TEST_KUBECONFIG: context ${context} has no cluster`);
  const caData =
    cluster.caData ?? (cluster.caFile !== undefined ? (await readFile(cluster.caFile)).toString("base64") : undefined);
  const base = {
    server: cluster.server,
    context,
    insecureSkipTlsVerify: cluster.skipTLSVerify,
    ...(caData === undefined ? {} : { caData }),
    ...(cluster.tlsServerName === undefined ? {} : { tlsServerName: cluster.tlsServerName }),
  };
  return {
    kubeconfigPath,
    context,
    server: cluster.server,
    fake: undefined,
    kubeconfigWithToken: (token) => writeVariant(dir, { ...base, token }),
    close: () => rm(dir, { recursive: true, force: true }),
  };
}

async function writeVariant(dir: string, spec: KubeconfigSpec): Promise<string> {
  const path = join(dir, `kubeconfig-${randomUUID()}`);
  await writeKubeconfig(path, spec);
  return path;
}
