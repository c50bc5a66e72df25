import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createServer as createHttpServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import { connect, createServer as createNetServer } from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createGunzip } from "node:zlib";
import type { TestRepo } from "./repo.ts";
import { gitTestEnv } from "./repo.ts";

/** A running test git server: the base URL repositories are under, and how to stop it. */
export interface GitServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves the bare repositories under `rootDir` over smart HTTP by running
 * `git http-backend` as a CGI program, on 127.0.0.1 and a free port.
 */
export async function startGitHttpServer(rootDir: string): Promise<GitServer> {
  const backend = join(execFileSync("git", ["--exec-path"], { encoding: "utf8" }).trim(), "git-http-backend");
  const server = createHttpServer((req, res) => serveCgi(backend, rootDir, req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function serveCgi(backend: string, rootDir: string, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? "/", "http://localhost");
  const gzip = req.headers["content-encoding"] === "gzip";
  const env: Record<string, string> = {
    ...process.env,
    GIT_PROJECT_ROOT: rootDir,
    GIT_HTTP_EXPORT_ALL: "1",
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    REQUEST_METHOD: req.method ?? "GET",
    CONTENT_TYPE: req.headers["content-type"] ?? "",
    REMOTE_ADDR: "127.0.0.1",
  };
  // The body is inflated here, so its length is unknown: http-backend then reads to EOF.
  const length = req.headers["content-length"];
  if (!gzip && length !== undefined) env["CONTENT_LENGTH"] = length;
  const protocol = req.headers["git-protocol"];
  if (typeof protocol === "string") env["GIT_PROTOCOL"] = protocol;
  const child = spawn(backend, [], { env, stdio: ["pipe", "pipe", "ignore"] });
  (gzip ? req.pipe(createGunzip()) : req).pipe(child.stdin);
  child.stdin.on("error", () => undefined);
  let head = Buffer.alloc(0);
  let headersDone = false;
  child.stdout.on("data", (chunk: Buffer) => {
    if (headersDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = findHeaderEnd(head);
    if (end === undefined) return;
    headersDone = true;
    writeCgiHeaders(res, head.subarray(0, end.index).toString("latin1"));
    res.write(head.subarray(end.index + end.length));
  });
  child.on("close", () => {
    if (!headersDone) res.writeHead(502).end("bad CGI response");
    else res.end();
  });
}

function findHeaderEnd(buf: Buffer): { index: number; length: number } | undefined {
  const crlf = buf.indexOf("\r\n\r\n");
  const lf = buf.indexOf("\n\n");
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return { index: crlf, length: 4 };
  if (lf !== -1) return { index: lf, length: 2 };
  return undefined;
}

function writeCgiHeaders(res: ServerResponse, block: string): void {
  let status = 200;
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") status = Number.parseInt(value, 10) || 200;
    else res.setHeader(name, value);
  }
  res.statusCode = status;
}

/** Serves the repositories under `rootDir` with `git daemon` (git://) on 127.0.0.1 and a free port. */
export async function startGitDaemon(rootDir: string): Promise<GitServer> {
  const port = await freePort();
  const child = spawn(
    "git",
    ["daemon", "--reuseaddr", "--export-all", "--informative-errors", `--base-path=${rootDir}`, "--listen=127.0.0.1", `--port=${port}`, rootDir],
    { stdio: ["ignore", "ignore", "ignore"] },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await waitForPort(port, child);
  return {
    url: `git://127.0.0.1:${port}`,
    close: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** A port nothing listens on right now (and, after this returns, a closed one). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`git daemon exited with code ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  child.kill("SIGKILL");
  throw new Error(`git daemon did not listen on port ${port}`);
}

/** A bare repository under a server's root that a test repository pushes to. */
export interface BareRemote {
  /** The bare repository's directory. */
  readonly dir: string;
  /** Its path under the server root, e.g. `app.git`, to append to a server URL. */
  readonly name: string;
  /** Pushes every branch and tag of the source, forced, deleting what the source no longer has. */
  push(): void;
}

/** Creates `<rootDir>/<name>.git` as a bare repository and pushes `source` to it. */
export function createBareRemote(rootDir: string, name: string, source: TestRepo): BareRemote {
  const dir = join(rootDir, `${name}.git`);
  const env = { ...process.env, ...gitTestEnv };
  execFileSync("git", ["init", "--quiet", "--bare", "-b", "main", dir], { env });
  const push = (): void => {
    execFileSync(
      "git",
      ["push", "--quiet", "--force", "--prune", dir, "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"],
      { cwd: source.dir, env },
    );
  };
  push();
  return { dir, name: `${name}.git`, push };
}
