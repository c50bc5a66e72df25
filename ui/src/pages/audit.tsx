/** The audit log, oldest first as the chain is built, with the verification of its hash chain on top. */
import { useVirtualizer } from "@tanstack/react-virtual";
import { useRef } from "react";
import { formatTime } from "../format.ts";
import { useAudit } from "../queries.ts";
import type { AuditEvent, AuditVerification } from "../types.ts";
import { Empty, ErrorBox, Loading } from "../widgets.tsx";

/** The audit page. */
export function AuditPage() {
  const audit = useAudit();
  const rows = audit.data?.pages.flatMap((p) => p.items) ?? [];
  // The latest page's verification is the newest judgement of the whole chain.
  const verification = audit.data?.pages.at(-1)?.verification;
  return (
    <section aria-labelledby="audit-title" data-testid="audit-page">
      <h1 id="audit-title">Audit log</h1>
      {verification === undefined ? null : <Verification v={verification} />}
      {audit.isPending ? <Loading what="the audit log" />
        : audit.isError ? <ErrorBox error={audit.error} retry={() => void audit.refetch()} />
        : rows.length === 0 ? <Empty>The audit log is empty.</Empty>
        : <AuditTable rows={rows} />}
      {audit.hasNextPage ? (
        <button type="button" onClick={() => void audit.fetchNextPage()} disabled={audit.isFetchingNextPage} data-testid="audit-more">
          {audit.isFetchingNextPage ? "Loading…" : "Newer records"}
        </button>
      ) : null}
    </section>
  );
}

function Verification(props: { v: AuditVerification }) {
  const v = props.v;
  return v.ok ? (
    <p className="badge tone-ok block" data-testid="audit-verification" data-ok="true">
      <span aria-hidden="true">✓</span> Chain verified: {v.count} records, head <code>{v.head?.slice(0, 16) ?? "-"}</code>
    </p>
  ) : (
    <p className="badge tone-bad block" role="alert" data-testid="audit-verification" data-ok="false">
      <span aria-hidden="true">✗</span> Chain broken at record {v.seq ?? "?"} after {v.count} good records: {v.reason ?? "no reason given"}
    </p>
  );
}

function detailText(d: Readonly<Record<string, unknown>>): string {
  return Object.entries(d).map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`).join(" · ");
}

const rowHeight = 44;

function AuditTable(props: { rows: readonly AuditEvent[] }) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: props.rows.length, getScrollElement: () => scroller.current, estimateSize: () => rowHeight, overscan: 10 });
  return (
    <div ref={scroller} className="audit-scroll" role="table" aria-rowcount={props.rows.length + 1} data-testid="audit-table">
      <div className="audit-row audit-head" role="row">
        <span role="columnheader">#</span><span role="columnheader">Time</span><span role="columnheader">Kind</span>
        <span role="columnheader">Actor</span><span role="columnheader">Where</span><span role="columnheader">Details</span>
      </div>
      <div style={{ height: virtual.getTotalSize(), position: "relative" }}>
        {virtual.getVirtualItems().map((v) => {
          const e = props.rows[v.index];
          if (e === undefined) return null;
          return (
            <div key={e.seq} className="audit-row" role="row" data-testid="audit-entry" ref={virtual.measureElement} data-index={v.index}
              style={{ transform: `translateY(${v.start}px)` }}>
              <span role="cell">{e.seq}</span>
              <span role="cell"><time dateTime={e.at}>{formatTime(e.at)}</time></span>
              <span role="cell">{e.kind}</span>
              <span role="cell">{e.actor}</span>
              <span role="cell">{[e.environment, e.stack].filter((x) => x !== undefined).join("/") || "-"}{e.revision === undefined ? "" : ` @ ${e.revision.slice(0, 7)}`}</span>
              <span role="cell" className="details">{detailText(e.details)}</span>
            </div>
          );
        })}
      </div>
    </div>
  );
}
