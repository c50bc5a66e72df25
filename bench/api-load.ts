/**
 * Helpers for the web API benchmarks: the agent child (bench/api-agent.ts) started and stopped
 * over IPC, and autocannon's programmatic API with the few result fields the benchmarks read.
 */
import { fork, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import type { AgentReady, AgentStopped } from "./api-agent.ts";

/** The part of autocannon's result the benchmarks report. */
export interface LoadResult {
  readonly requests: { readonly average: number; readonly total: number };
  /** Bytes received, headers included. */
  readonly throughput: { readonly total: number };
  readonly latency: { readonly p50: number; readonly p99: number; readonly max: number; readonly average: number };
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly duration: number;
}

interface LoadOptions {
  readonly url: string;
  readonly connections: number;
  readonly duration: number;
  readonly headers?: Record<string, string>;
}

// autocannon ships no types; its promise form is typed here by what the benchmarks read.
const require = createRequire(import.meta.url);
const autocannon = require("autocannon") as (o: LoadOptions) => Promise<LoadResult>;

/** Runs autocannon against one URL for `duration` seconds with `connections` connections. */
export function load(o: LoadOptions): Promise<LoadResult> {
  return autocannon(o);
}

/** A started agent child. */
export interface AgentChild {
  readonly ready: AgentReady;
  readonly process: ChildProcess;
  /** Stops the committer and the agent; resolves with what the child did. */
  stop(): Promise<AgentStopped>;
}

/** Options of {@link startAgentChild}. */
export interface AgentChildOptions {
  readonly work: string;
  readonly environments: number;
  readonly stacks: number;
  readonly commitEveryMs: number;
  readonly token: string;
  /** Another copy of gitward's src/ to run (see bench/api-agent.ts). */
  readonly src?: string;
  /** Lets anonymous callers read (`api.anonymousRead`), as the UI benchmark's browser is. */
  readonly anonymousRead?: boolean;
  /** Extra Node flags of the child, e.g. `--cpu-prof`. */
  readonly execArgv?: readonly string[];
}

/** Forks bench/api-agent.ts and waits until every stack is synced (at most 5 minutes). */
export async function startAgentChild(o: AgentChildOptions): Promise<AgentChild> {
  const child = fork(new URL("./api-agent.ts", import.meta.url).pathname, [
    "--work", o.work, "--environments", String(o.environments), "--stacks", String(o.stacks), "--commit-every", String(o.commitEveryMs),
    ...(o.src === undefined ? [] : ["--src", o.src]), ...(o.anonymousRead === true ? ["--anonymous-read"] : []),
  ], {
    // The agent runs with the young-generation size `gitward agent` sets for itself.
    execArgv: ["--max-semi-space-size=2", ...(o.execArgv ?? [])],
    env: { ...process.env, GITWARD_API_TOKEN: o.token },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const next = <T>(kind: string, timeoutMs: number): Promise<T> => new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`the agent child sent no ${kind} message in ${String(timeoutMs)} ms`)); }, timeoutMs);
    const onExit = (code: number | null): void => { clearTimeout(timer); reject(new Error(`the agent child exited with ${String(code)} before ${kind}`)); };
    child.once("exit", onExit);
    child.on("message", function onMessage(m: unknown) {
      if (typeof m === "object" && m !== null && (m as { kind?: unknown }).kind === kind) {
        clearTimeout(timer);
        child.off("exit", onExit);
        child.off("message", onMessage);
        resolve(m as T);
      }
    });
  });
  const ready = await next<AgentReady>("ready", 300_000);
  return {
    ready, process: child,
    async stop() {
      const stopped = next<AgentStopped>("stopped", 120_000);
      child.send("stop");
      const result = await stopped;
      await new Promise<void>((resolve) => { if (child.exitCode !== null) resolve(); else child.once("exit", () => { resolve(); }); });
      return result;
    },
  };
}
