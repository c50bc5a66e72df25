import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { after, describe, it } from "node:test";
import { KubeConfig } from "@kubernetes/client-node";
import type { KubeconfigOptions, KubeCredentials } from "../../../src/providers/kubernetes/kubeconfig.ts";
import { loadKubeConfig, loadKubeCredentials } from "../../../src/providers/kubernetes/kubeconfig.ts";
import { readStaticKubeconfig } from "../../../src/providers/kubernetes/kubeconfig-static.ts";

// The static reader must behave exactly as @kubernetes/client-node for every kubeconfig it takes,
// and decline (so that client-node is loaded) every kubeconfig it does not mirror.

const dir = mkdtempSync(join(tmpdir(), "gitward-kubeconfig-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const b64 = (text: string): string => Buffer.from(text).toString("base64");
const tokenFile = join(dir, "token");
writeFileSync(tokenFile, "token-from-file\n");
mkdirSync(join(dir, "certs"));
writeFileSync(join(dir, "certs", "ca.pem"), "CA FILE");
writeFileSync(join(dir, "certs", "client.pem"), "CERT FILE");
writeFileSync(join(dir, "certs", "client.key"), "KEY FILE");
mkdirSync(join(dir, "home", ".kube"), { recursive: true });

/** A kubeconfig with one context `main`, its cluster and user given as YAML mappings. */
function single(cluster: string, user: string | undefined, extra = ""): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `- name: c\n  cluster: {${cluster}}`,
    ...(user === undefined ? [] : ["users:", `- name: u\n  user: {${user}}`]),
    "contexts:",
    `- name: main\n  context: {cluster: c${user === undefined ? "" : ", user: u"}}`,
    "current-context: main",
    extra,
  ].join("\n");
}

let fileCount = 0;
function file(text: string, where = dir): string {
  const path = join(where, `kubeconfig-${fileCount++}.yaml`);
  writeFileSync(path, text);
  return path;
}

/** Runs `fn` with these variables set (undefined: unset) and the rest of the environment as it was. */
async function withEnv<T>(vars: Readonly<Record<string, string | undefined>>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (k: string, v: string | undefined): void => {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  };
  for (const [k, v] of Object.entries(vars)) set(k, v);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) set(k, v);
  }
}

/** What a client sees of a loaded kubeconfig: context, cluster, and the options of one request (or the error). */
async function observe(kc: KubeCredentials): Promise<unknown> {
  const cluster = kc.getCurrentCluster();
  const opts: https.RequestOptions = {};
  let request: unknown;
  try {
    await kc.applyToHTTPSOptions(opts);
    const { agent, ...rest } = opts;
    const agentKind = agent instanceof https.Agent ? "https" : agent instanceof http.Agent ? "http" : String(agent);
    request = { ...rest, agentKind };
  } catch (err: unknown) {
    request = { error: err instanceof Error ? err.message : String(err) };
  }
  return { context: kc.getCurrentContext(), server: cluster?.server, proxyUrl: cluster?.proxyUrl, request };
}

async function outcome(load: () => Promise<KubeCredentials>): Promise<unknown> {
  try {
    return await observe(await load());
  } catch (err: unknown) {
    return { loadError: err instanceof Error ? err.message : String(err) };
  }
}

interface Case {
  readonly name: string;
  readonly opts: () => KubeconfigOptions;
  readonly env?: () => Readonly<Record<string, string | undefined>>;
}

const noEnv = { KUBECONFIG: undefined, KUBERNETES_SERVICE_HOST: undefined };

const staticCases: readonly Case[] = [
  { name: "token, insecure-skip-tls-verify", opts: () => ({ kubeconfigPath: file(single("server: 'https://10.0.0.1:6443', insecure-skip-tls-verify: true", "token: abc.def")) }) },
  { name: "token, CA data, trailing slash on the server", opts: () => ({ kubeconfigPath: file(single(`server: 'https://k.example:443/', certificate-authority-data: ${b64("CA DATA")}`, "token: t0k3n")) }) },
  { name: "client certificate and key data", opts: () => ({ kubeconfigPath: file(single(`server: 'https://k', certificate-authority-data: ${b64("CA")}`, `client-certificate-data: ${b64("CERT")}, client-key-data: ${b64("KEY")}`)) }) },
  { name: "CA, certificate and key files relative to the kubeconfig", opts: () => ({ kubeconfigPath: file(single("server: 'https://k', certificate-authority: certs/ca.pem", "client-certificate: certs/client.pem, client-key: certs/client.key")) }) },
  { name: "a file and data both given: the file wins", opts: () => ({ kubeconfigPath: file(single(`server: 'https://k', certificate-authority: certs/ca.pem, certificate-authority-data: ${b64("IGNORED")}`, "token: x")) }) },
  { name: "token file (read at load, newline kept)", opts: () => ({ kubeconfigPath: file(single("server: 'https://k'", `token-file: '${tokenFile}'`)) }) },
  { name: "token wins over token file", opts: () => ({ kubeconfigPath: file(single("server: 'https://k'", "token: inline, token-file: /does/not/exist")) }) },
  { name: "basic auth", opts: () => ({ kubeconfigPath: file(single("server: 'https://k'", "username: admin, password: s3cret")) }) },
  { name: "basic auth, empty password", opts: () => ({ kubeconfigPath: file(single("server: 'https://k'", "username: admin, password: ''")) }) },
  { name: "impersonation and tls-server-name", opts: () => ({ kubeconfigPath: file(single("server: 'https://10.1.1.1', tls-server-name: api.internal", "token: x, as: alice")) }) },
  { name: "empty strings count as absent", opts: () => ({ kubeconfigPath: file(single("server: 'https://k', proxy-url: '', certificate-authority: '', tls-server-name: ''", "token: '', token-file: '', username: ''")) }) },
  { name: "plain http with insecure-skip-tls-verify", opts: () => ({ kubeconfigPath: file(single("server: 'http://127.0.0.1:8080', insecure-skip-tls-verify: true", "token: x")) }) },
  { name: "plain http without it: the same refusal", opts: () => ({ kubeconfigPath: file(single("server: 'http://127.0.0.1:8080'", "token: x")) }) },
  { name: "a missing CA file: the same error per request", opts: () => ({ kubeconfigPath: file(single("server: 'https://k', certificate-authority: certs/missing.pem", "token: x")) }) },
  { name: "a context without a user", opts: () => ({ kubeconfigPath: file(single("server: 'https://k', insecure-skip-tls-verify: true", undefined)) }) },
  { name: "a context naming an unknown user", opts: () => ({ kubeconfigPath: file(single("server: 'https://k'", "token: x").replace("user: u}", "user: nobody}")) }) },
  { name: "no current context", opts: () => ({ kubeconfigPath: file(single("server: 'https://k'", "token: x").replace("current-context: main", "")) }) },
  {
    name: "the named context, anchors and aliases",
    opts: () => ({
      context: "second",
      kubeconfigPath: file([
        "clusters:",
        "- {name: one, cluster: &c {server: 'https://one', insecure-skip-tls-verify: true}}",
        "- {name: two, cluster: {server: 'https://two'}}",
        "users:",
        "- {name: a, user: {token: aaa}}",
        "- {name: b, user: {token: bbb}}",
        "contexts:",
        "- {name: first, context: {cluster: one, user: a}}",
        "- {name: second, context: {cluster: two, user: b, namespace: ns}}",
        "- {name: second, context: {cluster: one, user: a}}",
        "current-context: first",
      ].join("\n")),
    }),
  },
  {
    name: "$KUBECONFIG: files merged, paths relative to each file, the later current-context wins",
    opts: () => ({}),
    env: () => {
      const sub = join(dir, "certs");
      const first = file(single("server: 'https://first'", "token: one"));
      const second = file(single("server: 'https://second', certificate-authority: ca.pem", "client-certificate: client.pem, client-key: client.key")
        .replace(/name: c\b/, "name: c2").replace("cluster: c", "cluster: c2").replace(/name: u\b/, "name: u2").replace("user: u}", "user: u2}").replaceAll("main", "other"), sub);
      return { ...noEnv, KUBECONFIG: [first, "", second].join(delimiter) };
    },
  },
  {
    name: "~/.kube/config",
    opts: () => ({}),
    env: () => {
      writeFileSync(join(dir, "home", ".kube", "config"), single("server: 'https://home'", "token: from-home"));
      return { ...noEnv, HOME: join(dir, "home") };
    },
  },
  { name: "an explicit path wins over in-cluster settings", opts: () => ({ kubeconfigPath: file(single("server: 'https://k'", "token: x")) }), env: () => ({ KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" }) },
];

const declinedCases: readonly Case[] = [
  { name: "an exec plugin", opts: () => ({ kubeconfigPath: file(single("server: 'https://k'", "exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/false}")) }) },
  { name: "an auth-provider", opts: () => ({ kubeconfigPath: file(single("server: 'https://k'", "auth-provider: {name: oidc, config: {id-token: x}}")) }) },
  { name: "a proxy", opts: () => ({ kubeconfigPath: file(single("server: 'https://k', proxy-url: 'http://proxy:3128'", "token: x")) }) },
  { name: "KUBERNETES_SERVICE_HOST without a service-account token", opts: () => ({}), env: () => ({ ...noEnv, KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" }) },
  { name: "an unknown context", opts: () => ({ context: "nope", kubeconfigPath: file(single("server: 'https://k'", "token: x")) }) },
  { name: "a missing file", opts: () => ({ kubeconfigPath: join(dir, "missing.yaml") }) },
  { name: "invalid YAML", opts: () => ({ kubeconfigPath: file("clusters: [\n  - {name: c") }) },
  { name: "an empty file", opts: () => ({ kubeconfigPath: file("") }) },
  { name: "a cluster without a server", opts: () => ({ kubeconfigPath: file(single("insecure-skip-tls-verify: true", "token: x")) }) },
  { name: "a number for a token", opts: () => ({ kubeconfigPath: file(single("server: 'https://k'", "token: 12345")) }) },
  { name: "another user's missing token file", opts: () => ({ kubeconfigPath: file(`${single("server: 'https://k'", "token: x")}\n`.replace("users:", "users:\n- {name: other, user: {token-file: /does/not/exist}}")) }) },
  {
    name: "$KUBECONFIG files that repeat a name",
    opts: () => ({}),
    env: () => ({ ...noEnv, KUBECONFIG: [file(single("server: 'https://a'", "token: x")), file(single("server: 'https://b'", "token: y"))].join(delimiter) }),
  },
  { name: "$KUBECONFIG naming no file", opts: () => ({}), env: () => ({ ...noEnv, KUBECONFIG: delimiter }) },
];

describe("kubeconfig loading without @kubernetes/client-node", () => {
  for (const c of staticCases) {
    it(`reads ${c.name} as client-node does`, async () => {
      await withEnv(c.env?.() ?? noEnv, async () => {
        const opts = c.opts();
        const fast = readStaticKubeconfig(opts, process.env);
        assert.ok(fast !== undefined, "the static reader declined it");
        assert.ok(!(fast instanceof KubeConfig));
        assert.deepEqual(await outcome(() => Promise.resolve(fast)), await outcome(() => loadKubeConfig(opts)));
      });
    });
  }

  for (const c of declinedCases) {
    it(`leaves ${c.name} to client-node, with the same result`, async () => {
      await withEnv(c.env?.() ?? noEnv, async () => {
        const opts = c.opts();
        assert.equal(readStaticKubeconfig(opts, process.env), undefined);
        const viaCredentials = await loadKubeCredentials(opts).then((kc) => kc instanceof KubeConfig, (err: unknown) => (err instanceof Error ? err.message : String(err)));
        const viaClientNode = await loadKubeConfig(opts).then((kc) => kc instanceof KubeConfig, (err: unknown) => (err instanceof Error ? err.message : String(err)));
        assert.deepEqual(viaCredentials, viaClientNode);
      });
    });
  }

  it("re-reads certificate files on every request, as client-node does", async () => {
    const ca = join(dir, "rotating-ca.pem");
    writeFileSync(ca, "OLD");
    const kc = readStaticKubeconfig({ kubeconfigPath: file(single(`server: 'https://k', certificate-authority: '${ca}'`, "token: x")) }, process.env);
    assert.ok(kc !== undefined);
    const first: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(first);
    writeFileSync(ca, "NEW");
    const second: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(second);
    assert.equal(String(first.ca), "OLD");
    assert.equal(String(second.ca), "NEW");
  });

  it("does not import @kubernetes/client-node to connect with a static kubeconfig", () => {
    const path = file(single("server: 'https://127.0.0.1:1'", "token: x"));
    const client = pathToFileURL(resolve(import.meta.dirname, "../../../src/providers/kubernetes/client.ts")).href;
    const script = [
      "import { registerHooks } from 'node:module';",
      "const seen = [];",
      "registerHooks({ resolve(s, c, next) { const r = next(s, c); seen.push(r.url); return r; } });",
      `const { KubeClient } = await import(${JSON.stringify(client)});`,
      `const kc = await KubeClient.connect({ kubeconfigPath: ${JSON.stringify(path)} });`,
      "kc.close();",
      "console.log(JSON.stringify({ context: kc.context, clientNode: seen.filter((u) => u.includes('@kubernetes/client-node')).length }));",
    ].join("\n");
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", env: { ...process.env, ...{ KUBECONFIG: "" } } });
    assert.deepEqual(JSON.parse(out), { context: "main", clientNode: 0 });
  });
});
