/**
 * The agent under load for the web API and UI benchmarks, run as a forked child (so the load
 * generator does not share its event loop): generates the repository (bench/api-repo.ts), starts
 * `runAgent` on it with SQLite state, waits until every stack is synced, reports `ready` with its
 * URL over IPC, then commits a change every `--commit-every` ms so the agent keeps syncing while
 * it is measured. On the parent's `stop` message it reports what it did and exits.
 *
 *   fork("bench/api-agent.ts", ["--work", DIR, "--environments", "4", "--stacks", "250", "--commit-every", "3000"])
 *
 * The API token is read from GITWARD_API_TOKEN, as `gitward agent` reads it. `--src DIR` runs
 * another copy of gitward's src/ (e.g. a commit's, extracted under bench/.work/ so that packages
 * resolve from this checkout's node_modules), to measure while the working tree changes.
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import type * as ConfigModule from "../src/agent/config.ts";
import type * as LoggerModule from "../src/agent/logger.ts";
import type * as RunModule from "../src/agent/run.ts";
import { generateApiRepo, startCommitter, type ApiRepoShape } from "./api-repo.ts";

/** What the child tells its parent once every stack is synced. */
export interface AgentReady {
  readonly kind: "ready";
  readonly url: string;
  readonly instances: number;
  readonly syncedMs: number;
}

/** What the child tells its parent when stopped. */
export interface AgentStopped {
  readonly kind: "stopped";
  readonly commits: number;
  /** Stack syncs recorded in the store while the agent ran (initial ones included). */
  readonly syncs: number;
}

const { values } = parseArgs({
  options: {
    work: { type: "string" },
    environments: { type: "string", default: "4" },
    stacks: { type: "string", default: "250" },
    concurrency: { type: "string", default: "4" },
    "commit-every": { type: "string", default: "3000" },
    src: { type: "string" },
    "anonymous-read": { type: "boolean", default: false },
  },
});
const src = values.src === undefined ? new URL("../src/", import.meta.url).href : `${pathToFileURL(values.src).href}/`;
const { agentConfigSchema } = await import(`${src}agent/config.ts`) as typeof ConfigModule;
const { agentLogger } = await import(`${src}agent/logger.ts`) as typeof LoggerModule;
const { runAgent } = await import(`${src}agent/run.ts`) as typeof RunModule;
if (values.work === undefined) throw new Error("--work DIR is required");
const work = values.work;
const shape: ApiRepoShape = { environments: Number(values.environments), stacksPerEnvironment: Number(values.stacks) };
const repo = join(work, "repo");
generateApiRepo(repo, join(work, "roots"), shape);
rmSync(join(work, "state.db"), { force: true });
rmSync(join(work, "state.db-wal"), { force: true });
mkdirSync(join(work, "cache"), { recursive: true });

const t0 = performance.now();
const running = await runAgent({
  config: agentConfigSchema.parse({
    cacheDir: join(work, "cache"), concurrency: Number(values.concurrency),
    intervals: { poll: 1, drift: 3600 },
    // Only when asked: a src/ older than the key refuses it.
    ...(values["anonymous-read"] ? { api: { anonymousRead: true } } : {}),
  }),
  repo, state: `sqlite:${join(work, "state.db")}`, listen: "127.0.0.1:0", healthTimeoutSeconds: 60,
  logger: agentLogger({ level: "warn", pretty: false }),
});
await running.agent.idle();
const status = await running.agent.status();
const synced = status.environments.flatMap((e) => e.stacks).filter((s) => s.lastSync?.outcome === "succeeded").length;
const instances = shape.environments * shape.stacksPerEnvironment;
if (synced !== instances) throw new Error(`only ${String(synced)} of ${String(instances)} stacks synced`);
const everyMs = Number(values["commit-every"]);
const committer = everyMs > 0 ? startCommitter(repo, shape, everyMs) : undefined;
const ready: AgentReady = { kind: "ready", url: running.url, instances, syncedMs: performance.now() - t0 };
process.send?.(ready);

/** Every sync row in the store, paged newest first. */
async function countSyncs(): Promise<number> {
  let count = 0;
  let beforeId: string | undefined;
  for (;;) {
    const page = await running.store.listSyncs({ limit: 1000, ...(beforeId === undefined ? {} : { beforeId }) });
    count += page.length;
    if (page.length < 1000) return count;
    beforeId = page[page.length - 1]?.id;
  }
}

process.on("message", (message: unknown) => {
  if (message !== "stop") return;
  void (async () => {
    const commits = (await committer?.stop()) ?? 0;
    await running.agent.idle();
    const syncs = await countSyncs();
    await running.stop();
    const stopped: AgentStopped = { kind: "stopped", commits, syncs };
    process.send?.(stopped, () => process.exit(0));
  })();
});
