/**
 * The fake API server of the apply benchmark, in a process of its own so that it does not
 * share an event loop with the client being measured. It starts the fake (test/support), writes
 * a kubeconfig for it, prints one line `FAKE_READY {"url","token","kubeconfig","context"}` on
 * stdout, and runs until its stdin closes or it gets SIGTERM.
 *
 *   node bench/apply-fake-server.ts KUBECONFIG_PATH [--tls CERT_PEM KEY_PEM]
 *
 * With `--tls` the fake answers https with that certificate (made by the parent with openssl,
 * for IP 127.0.0.1) instead of plain http. kubectl needs it: client-go's clientcmd only puts the
 * kubeconfig's credentials on requests when the transport is TLS, so against an http server it
 * is system:anonymous and gets 403 on everything. The fake only offers http, so this process
 * swaps `http.createServer` for `https.createServer` before the fake is loaded.
 */
import http from "node:http";
import https from "node:https";
import { readFileSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";

/** The line prefix the server's address is printed after. */
export const fakeReadyPrefix = "FAKE_READY ";

/** Where the benchmark's fake listens and how to reach it. */
export interface FakeEndpoint {
  readonly url: string;
  readonly token: string;
  readonly kubeconfig: string;
  readonly context: string;
}

function serveTls(certPath: string, keyPath: string): void {
  const tls = { cert: readFileSync(certPath), key: readFileSync(keyPath) };
  const secure = (...args: unknown[]): https.Server => {
    const listener = args.find((a): a is http.RequestListener => typeof a === "function");
    return https.createServer(tls, listener);
  };
  http.createServer = secure;
  // The fake imports `createServer` by name; refresh the ESM bindings of node:http.
  syncBuiltinESMExports();
}

async function main(): Promise<void> {
  const [kubeconfig, flag, certPath, keyPath] = process.argv.slice(2);
  if (kubeconfig === undefined || (flag !== undefined && (flag !== "--tls" || certPath === undefined || keyPath === undefined))) {
    throw new Error("usage: node bench/apply-fake-server.ts KUBECONFIG_PATH [--tls CERT_PEM KEY_PEM]");
  }
  const tls = flag === "--tls" && certPath !== undefined && keyPath !== undefined;
  if (tls) serveTls(certPath, keyPath);
  const { startFakeApiServer, writeKubeconfig } = await import("../test/support/fake-apiserver.ts");
  const fake = await startFakeApiServer();
  const context = "fake";
  const url = tls ? fake.url.replace(/^http:/, "https:") : fake.url;
  await writeKubeconfig(kubeconfig, {
    server: url, token: fake.token, context,
    ...(tls && certPath !== undefined ? { caData: readFileSync(certPath).toString("base64") } : {}),
  });
  const endpoint: FakeEndpoint = { url, token: fake.token, kubeconfig, context };
  process.stdout.write(`${fakeReadyPrefix}${JSON.stringify(endpoint)}\n`);
  // The fake remembers every request for tests; a benchmark sends tens of thousands.
  const forget = setInterval(() => fake.clearRequests(), 1000);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    clearInterval(forget);
    fake.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.resume();
  process.on("SIGTERM", stop);
}

if (import.meta.main) await main();
