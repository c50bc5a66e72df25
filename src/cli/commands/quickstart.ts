import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command } from "commander";
import { ErrorCode, GitwardError } from "../../core/errors.ts";
import { ExitCode } from "../exit-codes.ts";
import type { CliIO } from "../io.ts";
import { untilSignal } from "./agent.ts";

interface QuickstartFlags {
  dir: string;
  listen: string;
  once?: boolean;
  debug?: boolean;
  quiet?: boolean;
  color?: boolean;
}

type Run<F> = (action: (io: CliIO, flags: F) => Promise<number>) => (flags: F) => Promise<void>;

/** `gitward quickstart`: a demo repository with dev and prod on the host provider, and an agent syncing it. */
export function quickstartCommand(run: Run<QuickstartFlags>): Command {
  return new Command("quickstart")
    .description("Make a demo infrastructure repository (dev and prod, host targets) and run the agent on it: watch syncs, drift correction and rollback")
    .option("--dir <dir>", "where the demo repository, targets and state go", "gitward-quickstart")
    .option("--listen <host:port>", "the agent's API address", "127.0.0.1:8080")
    .option("--once", "sync once, print the status and exit (no agent left running)")
    .option("-q, --quiet", "log only warnings and errors")
    .option("--debug", "log at debug level")
    .addHelpText("after", "\nNeeds nothing but Node and git. Re-running it reuses the directory's repository and state.\nExit codes: 0 stopped cleanly (or --once synced everything), 1 error.")
    .action(run(async (io, flags) => {
      const dir = resolve(flags.dir);
      const created = makeDemo(dir);
      io.progress(created ? `created the demo in ${dir}` : `reusing the demo in ${dir}`);
      const { agentConfigSchema } = await import("../../agent/config.ts");
      const { runAgent } = await import("../../agent/run.ts");
      const { agentLogger } = await import("../../agent/logger.ts");
      const config = agentConfigSchema.parse({
        concurrency: 4, cacheDir: join(dir, ".cache"),
        intervals: { poll: 2, drift: 5, retryBase: 2, retryMax: 30, dependencyWait: 0.5 },
        gracePeriodSeconds: 10,
      });
      const running = await runAgent({
        config, repo: join(dir, "repo"), branch: "main", state: `sqlite:${join(dir, "state.db")}`,
        listen: flags.once === true ? "127.0.0.1:0" : flags.listen, healthTimeoutSeconds: 30,
        logger: agentLogger({ level: flags.debug === true ? "debug" : flags.quiet === true ? "warn" : "info" }),
      });
      try {
        // A stack that keeps failing is retried with backoff; --once does not wait for ever.
        await Promise.race([running.agent.idle(), new Promise((r) => setTimeout(r, 60_000).unref())]);
        const status = await running.agent.status();
        const synced = status.environments.every((e) => e.stacks.every((s) => s.lastSync?.outcome === "succeeded"));
        if (flags.once === true) {
          io.out(`${status.environments.map((e) => `${e.name}: ${e.stacks.map((s) => `${s.stack} ${s.lastSync?.outcome ?? "not synced"}`).join(", ")}`).join("\n")}\n`);
          return synced ? ExitCode.Ok : ExitCode.Error;
        }
        io.out(guide(dir, running.url));
        await untilSignal();
        return ExitCode.Ok;
      } finally {
        await running.stop();
      }
    }));
}

/** Writes the demo repository and target directories; false when they already exist. */
function makeDemo(dir: string): boolean {
  const repo = join(dir, "repo");
  if (existsSync(join(repo, ".git"))) return false;
  for (const env of ["dev", "prod"]) mkdirSync(join(dir, "targets", env), { recursive: true });
  const files: Record<string, string> = {
    "gitward.yaml": `# The gitward quick start: two environments on the host provider (files on this machine).
version: 1
environments:
  dev:
    vars: { greeting: "Hello from dev", replicas: "1", logLevel: debug }
    targets:
      web: { provider: host, root: ${join(dir, "targets", "dev")} }
    sync: { auto: true, prune: true, selfHeal: true }    # drift is corrected
  prod:
    vars: { greeting: "Hello from prod", replicas: "3", logLevel: warn }
    targets:
      web: { provider: host, root: ${join(dir, "targets", "prod")} }
    sync: { auto: true, prune: true, selfHeal: false }   # drift is reported, not corrected
stacks:
  site:
    target: web
    path: site
  app-config:
    target: web
    path: app
    dependsOn: [site]
`,
    "site/site.yaml": `apiVersion: host.gitward.dev/v1alpha1
kind: Directory
metadata: { name: site }
spec: { path: site, mode: "0755" }
---
apiVersion: host.gitward.dev/v1alpha1
kind: File
metadata: { name: index }
spec:
  path: site/index.html
  source: index.html
`,
    "site/index.html": "<h1>${greeting}</h1>\n",
    "app/config.yaml": `apiVersion: host.gitward.dev/v1alpha1
kind: File
metadata: { name: app-config }
spec:
  path: app/config.ini
  mode: "0640"
  content: |
    [app]
    replicas = \${replicas}
    log_level = \${logLevel}
`,
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(repo, path, ".."), { recursive: true });
    writeFileSync(join(repo, path), content);
  }
  const git = (...args: string[]): void => {
    try {
      execFileSync("git", args, {
        cwd: repo, stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, GIT_AUTHOR_NAME: process.env["GIT_AUTHOR_NAME"] ?? "gitward quickstart", GIT_AUTHOR_EMAIL: process.env["GIT_AUTHOR_EMAIL"] ?? "quickstart@gitward.dev", GIT_COMMITTER_NAME: process.env["GIT_COMMITTER_NAME"] ?? "gitward quickstart", GIT_COMMITTER_EMAIL: process.env["GIT_COMMITTER_EMAIL"] ?? "quickstart@gitward.dev" },
      });
    } catch (e: unknown) {
      throw new GitwardError(ErrorCode.Git, `git ${args[0] ?? ""} failed in ${repo}: ${(e as { stderr?: Buffer }).stderr?.toString().trim() ?? String(e)}`, { hint: "the quick start needs git on PATH" });
    }
  };
  git("init", "-q", "-b", "main");
  // `gitward rollback --push` pushes to this repository's checked-out branch: let the push update the work tree.
  git("config", "receive.denyCurrentBranch", "updateInstead");
  git("add", "-A");
  git("commit", "-q", "-m", "Quick start: a site and an app config in dev and prod");
  return true;
}

function guide(dir: string, url: string): string {
  const gw = "gitward";
  return `
The agent is running at ${url}, syncing ${dir}/repo (branch main) into ${dir}/targets/{dev,prod}.

Try, in another terminal:

  cat ${dir}/targets/dev/site/index.html
  ${gw} status --agent ${url}

  # Drift: dev corrects it within seconds; prod (self-heal off) only reports it.
  echo tampered > ${dir}/targets/dev/site/index.html
  echo tampered > ${dir}/targets/prod/site/index.html
  ${gw} status --agent ${url}

  # A change through Git: committed, then synced within seconds.
  cd ${dir}/repo && sed -i 's/Hello from dev/Bonjour from dev/' gitward.yaml && git commit -qam "Greet in French"
  ${gw} history --agent ${url}

  # Rollback is a revert commit; the agent syncs it like any other.
  ${gw} rollback --repo ${dir}/repo --env dev --steps 1 --reason "demo" --push

Ctrl-C stops the agent. History and audit stay in ${dir}/state.db (gitward audit verify --state sqlite:${dir}/state.db).
`;
}
