/**
 * The CPU accounting of the several-agents benchmark: how many CPU seconds the agents, the fake
 * API server, PostgreSQL, the benchmark itself and everything else on the machine used between
 * two moments, and PostgreSQL's own counters of transactions and rows.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import type { TestPostgres } from "../test/support/postgres.ts";
import type { AgentProcess } from "./agents-ha-fixture.ts";
import { childrenMatching, machineBusyCpu, processCpu, treeCpu } from "./proc-cpu.ts";

/** CPU seconds so far of each party of a run: the agents, the fake API server, PostgreSQL, this process, the machine. */
export interface CpuSnapshot {
  readonly agents: readonly number[];
  readonly fake: number;
  readonly postgres: number;
  readonly bench: number;
  readonly machine: number;
}

/** The pid of the PostgreSQL server (its postmaster), read from postmaster.pid in its data directory. */
export async function postmasterPid(pgServer: TestPostgres | undefined): Promise<number | undefined> {
  if (pgServer === undefined) return undefined;
  const dataDir = String((await pgServer.sql("SHOW data_directory")).rows[0]?.["data_directory"] ?? "");
  return Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
}

/** The CPU seconds used so far by the agents, the fake API server (a child of this process), PostgreSQL, this process and the machine. */
export function cpuSnapshot(agents: readonly AgentProcess[], pgPid: number | undefined): CpuSnapshot {
  const usage = process.cpuUsage();
  return {
    agents: agents.map((a) => (a.child.pid === undefined ? 0 : processCpu(a.child.pid))),
    fake: childrenMatching(process.pid, "apply-fake-server.ts").reduce((n, pid) => n + processCpu(pid), 0),
    postgres: pgPid === undefined ? 0 : treeCpu(pgPid),
    bench: (usage.user + usage.system) / 1e6,
    machine: machineBusyCpu(),
  };
}

/** Where the CPU went between two snapshots, against what the machine had in `wallMs`. */
export function describeCpu(a: CpuSnapshot, b: CpuSnapshot, wallMs: number): string {
  const agents = b.agents.map((v, i) => v - (a.agents[i] ?? 0));
  const sum = agents.reduce((n, v) => n + v, 0);
  const mine = sum + (b.fake - a.fake) + (b.postgres - a.postgres) + (b.bench - a.bench);
  const s = (v: number): string => `${v.toFixed(1)} s`;
  return `agents ${s(sum)} (${agents.map(s).join(" + ")}), fake API server ${s(b.fake - a.fake)}, PostgreSQL ${s(b.postgres - a.postgres)}, benchmark ${s(b.bench - a.bench)}; `
    + `other work on the machine ${s(b.machine - a.machine - mine)}; available ${s((wallMs / 1000) * availableParallelism())}`;
}

/** Transactions committed and rows written in the current PostgreSQL database so far. */
export async function pgCounters(pgServer: TestPostgres, db: string): Promise<{ xacts: number; inserted: number; updated: number }> {
  const r = await pgServer.sql(`SELECT xact_commit, tup_inserted, tup_updated FROM pg_stat_database WHERE datname = '${db}'`, db);
  const row = r.rows[0] as { xact_commit: string; tup_inserted: string; tup_updated: string } | undefined;
  return { xacts: Number(row?.xact_commit ?? 0), inserted: Number(row?.tup_inserted ?? 0), updated: Number(row?.tup_updated ?? 0) };
}
