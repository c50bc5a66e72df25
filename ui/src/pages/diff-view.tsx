/**
 * The live diff of a stack (desired vs live, secrets masked by the agent), unified or side by
 * side. The choice is remembered for the session.
 */
import { useState } from "react";
import { parseUnified, sideBySide, type DiffLine } from "../diff-lines.ts";
import { useDiff } from "../queries.ts";
import type { DiffEntry } from "../types.ts";
import { refText } from "./refs.ts";
import { Empty, ErrorBox, Loading, StateBadge } from "../widgets.tsx";

type Mode = "unified" | "split";

function storedMode(): Mode {
  try {
    return sessionStorage.getItem("gitward.diffMode") === "split" ? "split" : "unified";
  } catch {
    return "unified";
  }
}

/** The diff section of the stack page. */
export function DiffView(props: { environment: string; stack: string }) {
  const diff = useDiff(props.environment, props.stack);
  const [mode, setMode] = useState<Mode>(storedMode);
  const [showUnchanged, setShowUnchanged] = useState(false);
  const choose = (m: Mode): void => {
    setMode(m);
    try {
      sessionStorage.setItem("gitward.diffMode", m);
    } catch {
      // Storage off: the choice lasts until reload.
    }
  };
  const entries = diff.data?.entries ?? [];
  const changed = entries.filter((e) => e.action !== "no-op");
  const shown = showUnchanged ? entries : changed;
  return (
    <section aria-labelledby="diff-title" data-testid="diff-viewer">
      <div className="section-head">
        <h2 id="diff-title">Live diff</h2>
        <div role="group" aria-label="Diff layout" className="toggle">
          <button type="button" aria-pressed={mode === "unified"} onClick={() => choose("unified")} data-testid="diff-mode-unified">Unified</button>
          <button type="button" aria-pressed={mode === "split"} onClick={() => choose("split")} data-testid="diff-mode-split">Side by side</button>
        </div>
        <button type="button" onClick={() => void diff.refetch()} disabled={diff.isFetching} data-testid="diff-refresh">{diff.isFetching ? "Comparing…" : "Compare again"}</button>
      </div>
      <p className="muted">What applying revision <code>{diff.data?.revision.slice(0, 7) ?? "…"}</code> would change on the target now. Secret values are masked by the agent.</p>
      {diff.isPending ? <Loading what="the live diff (the agent asks the target)" />
        : diff.isError ? <ErrorBox error={diff.error} retry={() => void diff.refetch()} />
        : entries.length === 0 ? <Empty>This stack renders no objects.</Empty>
        : (
          <>
            {changed.length === 0 ? <Empty>No differences: the target matches Git for all {entries.length} objects.</Empty> : null}
            {entries.length > changed.length ? (
              <label className="check"><input type="checkbox" checked={showUnchanged} onChange={(e) => setShowUnchanged(e.target.checked)} /> Show {entries.length - changed.length} unchanged objects</label>
            ) : null}
            {shown.map((e) => <DiffEntryView key={`${e.ref.provider}:${e.ref.group}:${refText(e.ref)}`} entry={e} mode={mode} />)}
          </>
        )}
    </section>
  );
}

function DiffEntryView(props: { entry: DiffEntry; mode: Mode }) {
  const e = props.entry;
  const lines = e.diff === undefined ? [] : parseUnified(e.diff);
  return (
    <details className="diff-entry" open={e.action !== "no-op"} data-testid="diff-entry" data-action={e.action}>
      <summary>
        <StateBadge kind="action" value={e.action} /> <code>{refText(e.ref)}</code> <span className="muted">{e.apiVersion}</span>
        {e.drift !== undefined && e.drift.length > 0 ? <span className="badge tone-warn"><span aria-hidden="true">≠</span> drifted</span> : null}
      </summary>
      {lines.length === 0 ? <p className="muted">{e.action === "delete" ? "Deleted: no longer in Git." : "No textual diff."}</p>
        : props.mode === "unified" ? <Unified lines={lines} /> : <Split lines={lines} />}
    </details>
  );
}

const sign = { add: "+", del: "-", ctx: " ", hunk: "", meta: "" } as const;

function Unified(props: { lines: readonly DiffLine[] }) {
  return (
    <div className="diff-scroll">
      <table className="diff unified" data-testid="diff-unified">
        <tbody>
          {props.lines.map((l, i) => (
            <tr key={i} className={`dl-${l.kind}`}>
              <td className="ln">{l.old ?? ""}</td>
              <td className="ln">{l.new ?? ""}</td>
              <td className="code"><span aria-hidden="true">{sign[l.kind]}</span>{l.kind === "add" ? <span className="sr-only">added: </span> : l.kind === "del" ? <span className="sr-only">removed: </span> : null}{l.text}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Split(props: { lines: readonly DiffLine[] }) {
  const rows = sideBySide(props.lines);
  const side = (l: DiffLine | undefined, which: "old" | "new") => (
    <>
      <td className="ln">{l?.[which] ?? ""}</td>
      <td className={`code ${l === undefined ? "dl-empty" : `dl-${l.kind}`}`}>
        {l === undefined ? "" : <><span aria-hidden="true">{sign[l.kind]}</span>{l.text}</>}
      </td>
    </>
  );
  return (
    <div className="diff-scroll">
      <table className="diff split" data-testid="diff-split">
        <thead><tr><th colSpan={2}>Live</th><th colSpan={2}>Desired (Git)</th></tr></thead>
        <tbody>
          {rows.map((r, i) => r.kind === "hunk"
            ? <tr key={i} className="dl-hunk"><td colSpan={4}>{r.text}</td></tr>
            : <tr key={i}>{side(r.left, "old")}{side(r.right, "new")}</tr>)}
        </tbody>
      </table>
    </div>
  );
}
