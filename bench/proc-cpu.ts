/**
 * CPU time of processes from Linux's /proc, for benchmarks that run several processes on a
 * shared machine: per process (with its reaped children, e.g. git), per process tree (a
 * PostgreSQL postmaster and its live backends), and the whole machine's busy time, so a run can
 * say which process the wall time was spent in and how much went to other work on the machine.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Linux's USER_HZ: the unit of the times in /proc/PID/stat (100 on every common build). */
const ticksPerSecond = 100;

interface ProcStat {
  readonly ppid: number;
  /** utime + stime + cutime + cstime, in seconds: the process and its waited-for children. */
  readonly cpu: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined; // gone
  }
  // The command name (field 2) may hold spaces and parentheses: fields after it start past the last ')'.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const n = (i: number): number => Number(fields[i - 3] ?? 0);
  return { ppid: n(4), cpu: (n(14) + n(15) + n(16) + n(17)) / ticksPerSecond };
}

/** CPU seconds of one process and the children it has reaped; 0 once it is gone. */
export function processCpu(pid: number): number {
  return readStat(pid)?.cpu ?? 0;
}

/** CPU seconds of a process, its reaped children and its live children (one level: a postmaster's backends). */
export function treeCpu(pid: number): number {
  let total = processCpu(pid);
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const s = readStat(Number(entry));
    if (s?.ppid === pid) total += s.cpu;
  }
  return total;
}

/** The direct children of a process whose command line contains `needle`. */
export function childrenMatching(ppid: number, needle: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || readStat(Number(entry))?.ppid !== ppid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(needle)) found.push(Number(entry));
    } catch {
      // gone
    }
  }
  return found;
}

/** Busy CPU seconds of the whole machine since boot (all CPUs: user, nice, system, irq, softirq, steal). */
export function machineBusyCpu(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / ticksPerSecond;
}
