import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "./cli.ts";
import { freePort } from "./git-server.ts";
import { until } from "./until.ts";

/** A `gitward agent` process started by a test, answering on 127.0.0.1:port. */
export interface AgentProcess {
  readonly tag: string;
  readonly port: number;
  readonly child: ChildProcess;
}

/**
 * Starts `gitward agent <args> --listen 127.0.0.1:<free port>` from the checkout's sources and
 * waits until /healthz answers. Its stderr is kept (the last 4 KB are printed if it exits with an
 * error) and, with GITWARD_TEST_LOG set, appended to `<logDir>/agent-<tag>.log`.
 */
export async function startAgentProcess(tag: string, args: readonly string[], env: NodeJS.ProcessEnv, logDir: string): Promise<AgentProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(projectRoot, "src/cli/main.ts"), "agent", ...args, "--listen", `127.0.0.1:${port}`], {
    stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, NO_COLOR: "1", ...env },
  });
  let err = "";
  child.stderr?.on("data", (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
    if (process.env["GITWARD_TEST_LOG"] !== undefined) appendFileSync(join(logDir, `agent-${tag}.log`), d);
  });
  child.once("exit", (code, signal) => {
    if (code !== 0 && signal === null) process.stderr.write(`agent ${tag} exited with ${String(code)}: ${err}\n`);
  });
  await until(`agent ${tag} answers`, () => fetch(`http://127.0.0.1:${port}/healthz`).then((x) => x.ok, () => false));
  return { tag, port, child };
}
