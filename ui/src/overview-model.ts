/**
 * The overview grid as data: stacks grouped into rows (one per stack name) and columns (one per
 * environment), filtered by environment, state and a search. Pure, so 1,000 stacks are
 * filtered in one pass and the same rules are tested without a browser.
 */
import type { Stack } from "./types.ts";

/** States the overview filters on. */
export const stateFilters = ["in-sync", "out-of-sync", "failed", "drifted", "degraded", "held"] as const;

/** One of {@link stateFilters}. */
export type StateFilter = (typeof stateFilters)[number];

/** Whether a stack is in a state of the filter. */
export function inState(s: Stack, state: StateFilter): boolean {
  switch (state) {
    case "in-sync":
      return s.inSync;
    case "out-of-sync":
      return !s.inSync;
    case "failed":
      return s.lastSync?.outcome === "failed" || s.lastSync?.outcome === "interrupted";
    case "drifted":
      return s.drift > 0;
    case "degraded":
      return s.health?.state === "degraded" || s.health?.state === "timed-out";
    case "held":
      return s.gate.state === "held" || s.gate.state === "refused";
  }
}

/** The filters of the overview; all optional. */
export interface GridFilter {
  readonly environment?: string;
  readonly state?: string;
  /** Case-insensitive substring of the stack name. */
  readonly q?: string;
}

/** One row of the grid: a stack name and its status in each environment shown. */
export interface GridRow {
  readonly stack: string;
  /** Indexed like {@link Grid.environments}; undefined where the environment has no such stack. */
  readonly cells: readonly (Stack | undefined)[];
}

/** The grid: its columns and rows, sorted by name. */
export interface Grid {
  readonly environments: readonly string[];
  readonly rows: readonly GridRow[];
}

/**
 * The grid of `stacks` with `environments` as columns (their order kept; environments not
 * listed but present in stacks are appended). A row stays when any of its shown cells passes
 * the state filter.
 */
export function buildGrid(environments: readonly string[], stacks: readonly Stack[], f: GridFilter): Grid {
  const envs = [...environments];
  for (const s of stacks) if (!envs.includes(s.environment)) envs.push(s.environment);
  const columns = f.environment === undefined ? envs : envs.filter((e) => e === f.environment);
  const col = new Map(columns.map((e, i) => [e, i]));
  const q = f.q?.trim().toLowerCase() ?? "";
  const state = (stateFilters as readonly string[]).includes(f.state ?? "") ? (f.state as StateFilter) : undefined;
  const byName = new Map<string, (Stack | undefined)[]>();
  for (const s of stacks) {
    const i = col.get(s.environment);
    if (i === undefined || (q !== "" && !s.stack.toLowerCase().includes(q))) continue;
    let cells = byName.get(s.stack);
    if (cells === undefined) {
      cells = Array.from({ length: columns.length }, () => undefined);
      byName.set(s.stack, cells);
    }
    cells[i] = s;
  }
  const rows: GridRow[] = [];
  for (const [stack, cells] of byName) {
    if (state !== undefined && !cells.some((c) => c !== undefined && inState(c, state))) continue;
    rows.push({ stack, cells });
  }
  rows.sort((a, b) => (a.stack < b.stack ? -1 : a.stack > b.stack ? 1 : 0));
  return { environments: columns, rows };
}
