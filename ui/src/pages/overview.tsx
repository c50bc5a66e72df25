/**
 * The overview: environments × stacks, each cell with revision, sync state, health, drift and
 * gate. Rows are virtualised (only those on screen are in the DOM), so 1,000 stacks render at
 * once; filters live in the URL hash so a filtered view can be shared.
 */
import { useVirtualizer } from "@tanstack/react-virtual";
import { useDeferredValue, useMemo, useRef, type KeyboardEvent } from "react";
import { shortSha } from "../commit-link.ts";
import { buildGrid, stateFilters, type GridRow } from "../overview-model.ts";
import { useEnvironments, useStacks } from "../queries.ts";
import { routeHash, type Route } from "../route.ts";
import type { Environment, Stack } from "../types.ts";
import { Empty, ErrorBox, Loading, StateBadge } from "../widgets.tsx";

type OverviewRoute = Extract<Route, { page: "overview" }>;

const rowHeight = 76;

function setFilter(route: OverviewRoute, change: Partial<Record<"environment" | "state" | "q", string>>): void {
  const next: Record<string, string> = {};
  for (const k of ["environment", "state", "q"] as const) {
    const v = k in change ? change[k] : route[k];
    if (v !== undefined && v !== "") next[k] = v;
  }
  // replaceState: typing in the search box must not fill the history with one entry per key.
  window.history.replaceState(null, "", routeHash({ page: "overview", ...next }));
  window.dispatchEvent(new HashChangeEvent("hashchange"));
}

/** The overview page. */
export function OverviewPage(props: { route: OverviewRoute }) {
  const envs = useEnvironments();
  const stacks = useStacks();
  const q = useDeferredValue(props.route.q ?? "");
  const grid = useMemo(() => buildGrid(
    envs.data?.items.map((e) => e.name) ?? [],
    stacks.data?.items ?? [],
    { ...(props.route.environment === undefined ? {} : { environment: props.route.environment }), ...(props.route.state === undefined ? {} : { state: props.route.state }), q },
  ), [envs.data, stacks.data, props.route.environment, props.route.state, q]);

  return (
    <section aria-labelledby="overview-title" data-testid="overview-page">
      <h1 id="overview-title">Overview</h1>
      {envs.data === undefined ? null : <EnvironmentSummary items={envs.data.items} />}
      <Filters route={props.route} environments={envs.data?.items.map((e) => e.name) ?? []} />
      {stacks.isPending || envs.isPending ? <Loading what="stacks" />
        : stacks.isError ? <ErrorBox error={stacks.error} retry={() => void stacks.refetch()} />
        : envs.isError ? <ErrorBox error={envs.error} retry={() => void envs.refetch()} />
        : stacks.data.items.length === 0 ? <Empty>No stacks yet: the agent has not read gitward.yaml, or no environment you can read has stacks.</Empty>
        : grid.rows.length === 0 ? <Empty>No stack matches these filters.</Empty>
        : <StackGrid environments={grid.environments} rows={grid.rows} total={stacks.data.items.length} />}
    </section>
  );
}

function EnvironmentSummary(props: { items: readonly Environment[] }) {
  return (
    <ul className="env-summary" aria-label="Environments">
      {props.items.map((e) => (
        <li key={e.name} data-testid={`env-${e.name}`}>
          <strong>{e.name}</strong> <span className="muted">{e.inSync}/{e.stacks} in sync</span>
          {e.failed > 0 ? <StateBadge kind="outcome" value="failed" label={`${e.failed} failed`} /> : null}
          {e.drifted > 0 ? <span className="badge tone-warn"><span aria-hidden="true">≠</span> {e.drifted} drifted</span> : null}
          <StateBadge kind="gate" value={e.gate.state} testId={`env-gate-${e.name}`} />
          {e.auto ? null : <span className="muted">manual sync</span>}
        </li>
      ))}
    </ul>
  );
}

function Filters(props: { route: OverviewRoute; environments: readonly string[] }) {
  return (
    <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
      <label>
        Search stacks{" "}
        <input type="search" value={props.route.q ?? ""} placeholder="name contains…" data-testid="filter-search"
          onChange={(e) => setFilter(props.route, { q: e.target.value })} />
      </label>
      <label>
        Environment{" "}
        <select value={props.route.environment ?? ""} data-testid="filter-environment" onChange={(e) => setFilter(props.route, { environment: e.target.value })}>
          <option value="">all</option>
          {props.environments.map((e) => <option key={e} value={e}>{e}</option>)}
        </select>
      </label>
      <label>
        State{" "}
        <select value={props.route.state ?? ""} data-testid="filter-state" onChange={(e) => setFilter(props.route, { state: e.target.value })}>
          <option value="">any</option>
          {stateFilters.map((s) => <option key={s} value={s}>{s.replace(/-/g, " ")}</option>)}
        </select>
      </label>
    </form>
  );
}

/** Moves focus between cells with the arrow keys, scrolling the virtual list as needed. */
function moveFocus(e: KeyboardEvent<HTMLDivElement>, scrollTo: (row: number) => void, rows: number, cols: number): void {
  const cell = (e.target as HTMLElement).closest<HTMLElement>("[data-row]");
  if (cell === null) return;
  let row = Number(cell.dataset.row);
  let col = Number(cell.dataset.col);
  switch (e.key) {
    case "ArrowDown": row = Math.min(rows - 1, row + 1); break;
    case "ArrowUp": row = Math.max(0, row - 1); break;
    case "ArrowRight": col = Math.min(cols - 1, col + 1); break;
    case "ArrowLeft": col = Math.max(0, col - 1); break;
    case "Home": row = 0; break;
    case "End": row = rows - 1; break;
    default: return;
  }
  e.preventDefault();
  scrollTo(row);
  // The target row may only now be rendered: focus it on the next frame.
  requestAnimationFrame(() => e.currentTarget.querySelector<HTMLElement>(`[data-row="${row}"][data-col="${col}"]`)?.focus());
}

function StackGrid(props: { environments: readonly string[]; rows: readonly GridRow[]; total: number }) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: props.rows.length, getScrollElement: () => scroller.current, estimateSize: () => rowHeight, overscan: 8 });
  const columns = `minmax(9rem, 14rem) repeat(${props.environments.length}, minmax(13rem, 1fr))`;
  return (
    <>
      <p className="muted" aria-live="polite" data-testid="grid-count">{props.rows.length} {props.rows.length === 1 ? "stack" : "stacks"} shown ({props.total} stack instances in all)</p>
      <div ref={scroller} className="grid-scroll" role="grid" aria-rowcount={props.rows.length + 1} aria-colcount={props.environments.length + 1} data-testid="stack-grid"
        onKeyDown={(e) => moveFocus(e, (i) => virtual.scrollToIndex(i), props.rows.length, props.environments.length)}>
        <div className="grid-row grid-head" role="row" aria-rowindex={1} style={{ gridTemplateColumns: columns }}>
          <div role="columnheader">Stack</div>
          {props.environments.map((e) => <div role="columnheader" key={e}>{e}</div>)}
        </div>
        <div className="grid-body" style={{ height: virtual.getTotalSize() }}>
          {virtual.getVirtualItems().map((v) => {
            const row = props.rows[v.index];
            if (row === undefined) return null;
            return (
              <div key={row.stack} className="grid-row" role="row" aria-rowindex={v.index + 2} data-testid={`grid-row-${row.stack}`}
                style={{ gridTemplateColumns: columns, transform: `translateY(${v.start}px)`, height: rowHeight }}>
                <div role="rowheader" className="stack-name">{row.stack}</div>
                {row.cells.map((c, i) => <Cell key={props.environments[i]} stack={c} environment={props.environments[i] ?? ""} name={row.stack} row={v.index} col={i} />)}
              </div>
            );
          })}
        </div>
      </div>
    </>
  );
}

function Cell(props: { stack: Stack | undefined; environment: string; name: string; row: number; col: number }) {
  const s = props.stack;
  if (s === undefined) {
    return <div role="gridcell" className="cell cell-none" data-row={props.row} data-col={props.col} tabIndex={-1}><span className="muted">not in {props.environment}</span></div>;
  }
  const sync = s.queued ? "queued" : s.current === undefined ? "never" : s.inSync ? "in-sync" : "out-of-sync";
  const label = `${s.stack} in ${s.environment}: ${sync.replace(/-/g, " ")}, revision ${shortSha(s.current)}`;
  return (
    <div role="gridcell" className="cell-wrap">
      <a className="cell" href={routeHash({ page: "stack", environment: s.environment, stack: s.stack })} aria-label={label}
        data-testid={`cell-${s.environment}-${s.stack}`} data-row={props.row} data-col={props.col} data-sync={sync}>
        <span className="cell-line">
          <code title={s.current ?? "never synced"}>{shortSha(s.current)}</code>
          <StateBadge kind="sync" value={sync} />
        </span>
        <span className="cell-line">
          {s.lastSync?.outcome === "failed" || s.lastSync?.outcome === "interrupted" ? <StateBadge kind="outcome" value={s.lastSync.outcome} /> : null}
          {s.health === undefined ? null : <StateBadge kind="health" value={s.health.state} />}
          {s.drift > 0 ? <span className="badge tone-warn" data-testid="cell-drift"><span aria-hidden="true">≠</span> {s.drift} drifted</span> : null}
          {s.gate.state === "open" ? null : <StateBadge kind="gate" value={s.gate.state} />}
        </span>
      </a>
    </div>
  );
}
