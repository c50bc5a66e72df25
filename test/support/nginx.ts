import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./git-server.ts";

/** A real nginx on 127.0.0.1, its configuration directory usable as a host target root. */
export interface TestNginx {
  /** The configuration directory: nginx.conf (not managed) includes conf.d/*.conf. */
  readonly root: string;
  readonly port: number;
  readonly pidFile: string;
  /** gitward target commands for this nginx, as argument arrays. */
  readonly check: readonly string[];
  readonly reload: readonly string[];
  health(path: string): readonly string[];
  /**
   * The file of `gitward apply --host-commands` defining them for `target` (the runner's side:
   * gitward.yaml names `nginx-test`, `nginx-reload` and `healthz`), plus any `extra` definitions.
   */
  hostCommandsYaml(target: string, healthPath: string, extra?: Readonly<Record<string, readonly string[]>>): string;
  get(path: string): Promise<{ status: number; body: string }>;
  stop(): Promise<void>;
}

/** Where Debian puts nginx; PATH is tried first. */
export function nginxBinary(): string {
  for (const dir of (process.env["PATH"] ?? "").split(":").concat(["/usr/sbin", "/usr/local/sbin"])) {
    if (dir !== "" && existsSync(join(dir, "nginx"))) return join(dir, "nginx");
  }
  throw new Error("nginx is not installed (Debian: apt-get install nginx); .ci/run installs it");
}

const reloadScript = `
import { readFileSync } from "node:fs";
const pidFile = process.argv[2];
const master = Number(readFileSync(pidFile, "utf8").trim());
const children = () => { try { return readFileSync(\`/proc/\${master}/task/\${master}/children\`, "utf8").trim().split(/\\s+/).filter(Boolean); } catch { return null; } };
const old = new Set(children() ?? []);
process.kill(master, "SIGHUP");
const deadline = Date.now() + 5000;
// nginx reloads asynchronously: done when none of the old workers is left.
while (Date.now() < deadline) {
  const now = children();
  if (now === null) { console.error("nginx master is gone"); process.exit(1); }
  if (now.length > 0 && now.every((p) => !old.has(p))) { console.log("reloaded: workers " + now.join(" ")); process.exit(0); }
  await new Promise((r) => setTimeout(r, 20));
}
console.error("nginx did not start new workers within 5 s (see its error log)");
process.exit(1);
`;

const healthScript = `
const url = process.argv[2];
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  const body = await res.text();
  console.log(res.status + " " + body.trim().slice(0, 200));
  process.exit(res.status === 200 ? 0 : 1);
} catch (e) {
  console.error(String(e));
  process.exit(1);
}
`;

/**
 * Starts nginx in the foreground with a fresh configuration directory. As root (CI) it runs
 * as the unprivileged user nobody; otherwise as the current user.
 */
export async function startNginx(): Promise<TestNginx> {
  const binary = nginxBinary();
  const base = mkdtempSync(join(tmpdir(), "gitward-nginx-"));
  chmodSync(base, 0o755);
  const root = join(base, "conf");
  const run = join(base, "run");
  const scripts = join(base, "scripts");
  mkdirSync(join(root, "conf.d"), { recursive: true, mode: 0o755 });
  mkdirSync(run, { mode: 0o755 });
  mkdirSync(scripts, { mode: 0o755 });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(run, 65534, 65534);
  const port = await freePort();
  const pidFile = join(run, "nginx.pid");
  writeFileSync(join(root, "nginx.conf"), `daemon off;
pid ${pidFile};
error_log ${join(run, "error.log")};
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${join(run, "body")};
  proxy_temp_path ${join(run, "proxy")};
  fastcgi_temp_path ${join(run, "fastcgi")};
  uwsgi_temp_path ${join(run, "uwsgi")};
  scgi_temp_path ${join(run, "scgi")};
  # The listener is not managed: the sites in conf.d are.
  server {
    listen 127.0.0.1:${port};
    location / { return 404 "no site\\n"; }
  }
  include conf.d/*.conf;
}
`, { mode: 0o644 });
  writeFileSync(join(scripts, "reload.mjs"), reloadScript);
  writeFileSync(join(scripts, "health.mjs"), healthScript);
  const child: ChildProcess = spawn(binary, ["-c", join(root, "nginx.conf")], {
    stdio: ["ignore", "ignore", "pipe"],
    ...(asRoot ? { uid: 65534, gid: 65534 } : {}),
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = (path: string): string => `http://127.0.0.1:${port}${path}`;
  const get = async (path: string): Promise<{ status: number; body: string }> => {
    const res = await fetch(url(path), { signal: AbortSignal.timeout(2000) });
    return { status: res.status, body: await res.text() };
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited at start: ${stderr}`);
    try {
      if (existsSync(pidFile) && readFileSync(pidFile, "utf8").trim() !== "") {
        await get("/");
        break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`nginx did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const check = [binary, "-t", "-q", "-c", "{staged}/nginx.conf"];
  const reload = [process.execPath, join(scripts, "reload.mjs"), pidFile];
  const health = (path: string): string[] => [process.execPath, join(scripts, "health.mjs"), url(path)];
  return {
    root, port, pidFile, check, reload, health,
    hostCommandsYaml(target, healthPath, extra = {}) {
      const defs: Record<string, readonly string[]> = { "nginx-test": check, "nginx-reload": reload, healthz: health(healthPath), ...extra };
      return `${target}:\n${Object.entries(defs).map(([name, argv]) => `  ${name}: ${JSON.stringify(argv)}\n`).join("")}`;
    },
    get,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGQUIT");
        const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(base, { recursive: true, force: true });
    },
  };
}
