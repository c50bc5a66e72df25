import { spawn, execFile, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./git-server.ts";

/** A real PostgreSQL server on 127.0.0.1, in a temporary directory, for tests. */
export interface TestPostgres {
  /** The superuser's URL to the `postgres` database (with its password). */
  readonly url: string;
  readonly port: number;
  /** The superuser's name and password (password authentication on loopback). */
  readonly user: string;
  readonly password: string;
  /** Creates a new empty database and returns a URL to it (as the superuser). */
  createDatabase(name?: string): Promise<string>;
  /** Runs one SQL statement as the superuser on a database (default `postgres`). */
  sql(text: string, database?: string): Promise<pg.QueryResult>;
  /** Stops the server (fast shutdown: clients are disconnected) and starts it again on the same port. */
  restart(options?: { downMs?: number }): Promise<void>;
  /** Stops the server and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startPostgres}. */
export interface StartPostgresOptions {
  /** Keep fsync on (for benchmarks); tests turn it off, since the cluster is thrown away. Default false. */
  readonly durable?: boolean;
}

/** The directory of Debian's PostgreSQL binaries (the newest version), or one on PATH. */
export function postgresBinDir(): string {
  const root = "/usr/lib/postgresql";
  if (existsSync(root)) {
    const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (existsSync(join(root, v, "bin", "initdb"))) return join(root, v, "bin");
  }
  for (const dir of (process.env["PATH"] ?? "").split(":")) {
    if (dir !== "" && existsSync(join(dir, "initdb")) && existsSync(join(dir, "postgres"))) return dir;
  }
  throw new Error("PostgreSQL is not installed (Debian: apt-get install postgresql); .ci/run installs it");
}

/** As root, PostgreSQL refuses to run: commands run as the `postgres` user through setpriv. */
function asServerUser(bin: string, args: readonly string[]): { cmd: string; args: string[] } {
  if (process.getuid?.() !== 0) return { cmd: bin, args: [...args] };
  return { cmd: "setpriv", args: ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", bin, ...args] };
}

function run(bin: string, args: readonly string[]): Promise<void> {
  const c = asServerUser(bin, args);
  return new Promise((resolve, reject) => {
    execFile(c.cmd, c.args, { timeout: 60_000, encoding: "utf8" }, (error, _stdout, stderr) => {
      if (error === null) resolve();
      else reject(new Error(`${bin} failed: ${stderr.trim() || error.message}`));
    });
  });
}

/**
 * Starts a throwaway PostgreSQL cluster: initdb in a temporary directory (owned by `postgres` when
 * running as root), password authentication (scram-sha-256) on 127.0.0.1 at a random free port,
 * the socket in the same directory. Share one per test file; give each test its own database.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<TestPostgres> {
  const bin = postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), "gitward-pg-"));
  const data = join(dir, "data");
  const user = "gitward_admin";
  const password = `pw-${Math.random().toString(36).slice(2, 12)}`;
  const pwfile = join(dir, "pwfile");
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  const root = process.getuid?.() === 0;
  if (root) {
    const pw = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("postgres:"))?.split(":");
    if (pw === undefined) throw new Error("running as root, but there is no postgres user to run PostgreSQL as");
    chownSync(dir, Number(pw[2]), Number(pw[3]));
    chownSync(pwfile, Number(pw[2]), Number(pw[3]));
    chmodSync(dir, 0o700);
  }
  await run(join(bin, "initdb"), ["-D", data, "-U", user, `--pwfile=${pwfile}`, "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-sync", "--locale=C"]);
  const port = await freePort();
  const settings = ["-c", "listen_addresses=127.0.0.1", "-p", String(port), "-k", dir, "-c", "max_connections=100", "-c", "shared_buffers=32MB"];
  if (options.durable !== true) settings.push("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off");
  const url = `postgres://${user}:${password}@127.0.0.1:${port}/postgres`;
  let server: ChildProcess | undefined;
  let stopped = false;
  let dbCount = 0;

  const start = async (): Promise<void> => {
    const log = openSync(join(dir, "server.log"), "a");
    const c = asServerUser(join(bin, "postgres"), ["-D", data, ...settings]);
    server = spawn(c.cmd, c.args, { stdio: ["ignore", log, log], detached: true });
    closeSync(log);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (server.exitCode !== null) throw new Error(`postgres exited with ${server.exitCode}: ${readFileSync(join(dir, "server.log"), "utf8").slice(-2000)}`);
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
      try {
        await client.connect();
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
        if (Date.now() > deadline) throw new Error(`postgres did not accept connections within 30 s: ${readFileSync(join(dir, "server.log"), "utf8").slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };

  const halt = async (): Promise<void> => {
    const child = server;
    server = undefined;
    if (child === undefined || child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    // SIGINT is PostgreSQL's fast shutdown: clients are disconnected, the server stops at once.
    child.kill("SIGINT");
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // Already gone.
      }
    }, 15_000);
    await exited;
    clearTimeout(timer);
  };

  const sql = async (text: string, database = "postgres"): Promise<pg.QueryResult> => {
    const client = new pg.Client({ host: "127.0.0.1", port, user, password, database });
    await client.connect();
    try {
      return await client.query(text);
    } finally {
      await client.end();
    }
  };

  await start();
  return {
    url, port, user, password, sql,
    async createDatabase(name?: string): Promise<string> {
      const db = name ?? `t${process.pid}_${++dbCount}_${Math.random().toString(36).slice(2, 8)}`;
      await sql(`CREATE DATABASE "${db}"`);
      return `postgres://${user}:${password}@127.0.0.1:${port}/${db}`;
    },
    async restart(o = {}): Promise<void> {
      await halt();
      if (o.downMs !== undefined) await new Promise((r) => setTimeout(r, o.downMs));
      await start();
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
