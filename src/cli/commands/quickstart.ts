import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { Command } from "commander";
import { ErrorCode, GitwardError } from "../../core/errors.ts";
import { ExitCode } from "../exit-codes.ts";
import type { CliIO } from "../io.ts";
import { untilSignal } from "./agent.ts";
import { ensureAgentConfig, ensureApiToken, guide, makeDemo } from "./quickstart-demo.ts";

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
      const listen = flags.once === true ? "127.0.0.1:0" : flags.listen;
      // Before anything is written: a taken port must not leave a half-made demo behind.
      await ensureFree(listen);
      const demo = makeDemo(dir);
      io.progress(demo.created ? `created the demo in ${dir}` : `reusing the demo in ${dir}`);
      if (demo.identitySet) io.progress(`git has no user name and email here: the demo repository commits as "gitward quickstart" (git config user.email in ${join(dir, "repo")})`);
      const tokenFile = ensureApiToken(dir);
      const state = `sqlite:${join(dir, "state.db")}`;
      const { ensureQuickstartToken } = await import("./quickstart-token.ts");
      const { tokenActor } = await import("./token.ts");
      const admin = await ensureQuickstartToken(dir, state, tokenActor());
      io.progress(admin.created ? `created the admin API token (kept in ${admin.file})` : `reusing the admin API token in ${admin.file}`);
      const { loadAgentConfig } = await import("../../agent/config.ts");
      const { runAgent } = await import("../../agent/run.ts");
      const { agentLogger } = await import("../../agent/logger.ts");
      const config = await loadAgentConfig(ensureAgentConfig(dir, tokenFile));
      const running = await runAgent({
        config, repo: join(dir, "repo"), branch: "main", state,
        listen, healthTimeoutSeconds: 30,
        logger: agentLogger({ level: flags.debug === true ? "debug" : flags.quiet === true ? "warn" : "info" }),
      }).catch((e: unknown) => {
        // Taken between the check and now.
        throw (e as NodeJS.ErrnoException).code === "EADDRINUSE" ? portInUse(listen) : e;
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
        io.out(guide({ dir, url: running.url, tokenFile, adminToken: admin, gitward: gitwardCommand() }));
        await untilSignal();
        return ExitCode.Ok;
      } finally {
        await running.stop();
      }
    }));
}

/** Fails when the agent could not listen at `listen` (host:port): the port is taken, or not ours to use. */
async function ensureFree(listen: string): Promise<void> {
  const i = listen.lastIndexOf(":");
  const host = listen.slice(0, i).replace(/^\[|\]$/g, "");
  const port = Number(listen.slice(i + 1));
  if (i <= 0 || !/^\d+$/.test(listen.slice(i + 1)) || port > 65535) {
    throw new GitwardError(ErrorCode.Config, `--listen ${listen}: expected host:port, e.g. 127.0.0.1:8080`);
  }
  if (port === 0) return;
  await new Promise<void>((done, fail) => {
    const server = createServer();
    server.once("error", (e: NodeJS.ErrnoException) => {
      fail(e.code === "EADDRINUSE" ? portInUse(listen) : new GitwardError(ErrorCode.Config, `cannot listen on ${listen}: ${e.code ?? e.message}`, { hint: "pass --listen 127.0.0.1:PORT with a free port above 1024" }));
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => done()));
  });
}

function portInUse(listen: string): GitwardError {
  const i = listen.lastIndexOf(":");
  return new GitwardError(ErrorCode.Config, `port ${listen.slice(i + 1)} is in use; pass --listen ${listen.slice(0, i)}:PORT`, {
    hint: "another quick start or agent may be running: stop it, or choose a free port",
  });
}

/** How this very gitward is run, for the guide: this Node (maybe the one make installed) and this entry point. */
function gitwardCommand(): string[] {
  return [process.execPath, resolve(process.argv[1] ?? "bin/gitward.js")];
}
