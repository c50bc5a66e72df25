/**
 * A stack's history as a timeline: each sync with its revision (linked to the commit on the
 * forge when the repository is on one), author, trigger, approvers, result, duration and the
 * host commands' output, folded.
 */
import { commitUrl, shortSha } from "../commit-link.ts";
import { approvalsFromDetail, detailWithoutApprovals, formatDuration, formatTime } from "../format.ts";
import { useHistory } from "../queries.ts";
import type { SyncRow } from "../types.ts";
import { refText } from "./refs.ts";
import { Empty, ErrorBox, Loading, StateBadge } from "../widgets.tsx";

/** The revision's short SHA, linked to its commit when the repository's forge is known. */
export function Revision(props: { sha: string; repo: string | undefined }) {
  const url = commitUrl(props.repo, props.sha);
  const text = <code title={props.sha}>{shortSha(props.sha)}</code>;
  return url === undefined ? text : <a href={url} target="_blank" rel="noopener noreferrer" data-testid="commit-link">{text}</a>;
}

/** The history section of the stack page. */
export function HistoryTimeline(props: { environment: string; stack: string; repo: string | undefined }) {
  const h = useHistory(props.environment, props.stack);
  const rows = h.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section aria-labelledby="history-title" data-testid="history">
      <h2 id="history-title">History</h2>
      {h.isPending ? <Loading what="history" />
        : h.isError ? <ErrorBox error={h.error} retry={() => void h.refetch()} />
        : rows.length === 0 ? <Empty>No sync of this stack yet.</Empty>
        : (
          <ol className="timeline">
            {rows.map((r) => <HistoryEntry key={r.id} row={r} repo={props.repo} />)}
          </ol>
        )}
      {h.hasNextPage ? (
        <button type="button" onClick={() => void h.fetchNextPage()} disabled={h.isFetchingNextPage} data-testid="history-more">
          {h.isFetchingNextPage ? "Loading…" : "Older syncs"}
        </button>
      ) : null}
    </section>
  );
}

function summaryText(summary: Readonly<Record<string, number>>): string {
  const parts = Object.entries(summary).filter(([, n]) => n > 0).map(([a, n]) => `${n} ${a}`);
  return parts.length === 0 ? "no changes" : parts.join(", ");
}

function HistoryEntry(props: { row: SyncRow; repo: string | undefined }) {
  const r = props.row;
  const approvals = approvalsFromDetail(r.trigger.detail);
  const detail = detailWithoutApprovals(r.trigger.detail);
  const subject = r.revision.message.split("\n", 1)[0] ?? "";
  return (
    <li className={`entry outcome-${r.outcome}`} data-testid="history-entry" data-sync-id={r.id} data-outcome={r.outcome}>
      <div className="entry-head">
        <StateBadge kind="outcome" value={r.outcome} />
        <Revision sha={r.revision.sha} repo={props.repo} />
        <span className="subject">{subject}</span>
      </div>
      <dl className="facts">
        <div><dt>Started</dt><dd><time dateTime={r.startedAt}>{formatTime(r.startedAt)}</time></dd></div>
        <div><dt>Duration</dt><dd>{r.outcome === "running" ? "running" : formatDuration(r.durationMs)}</dd></div>
        <div><dt>Author</dt><dd>{r.revision.author === "" ? "-" : r.revision.author}</dd></div>
        <div><dt>Trigger</dt><dd>{r.trigger.kind}{r.trigger.by === undefined ? "" : ` by ${r.trigger.by}`}{detail === undefined ? "" : ` (${detail})`}</dd></div>
        {approvals.length === 0 ? null : (
          <div data-testid="history-approvers"><dt>Approved</dt><dd>{approvals.map((a) => `${a.ref} by ${a.approvers.join(", ")}`).join("; ")}</dd></div>
        )}
        <div><dt>Changes</dt><dd>{summaryText(r.summary)}</dd></div>
        {r.health === undefined ? null : <div><dt>Health</dt><dd><StateBadge kind="health" value={r.health.state} /></dd></div>}
      </dl>
      {r.error === undefined ? null : <p className="error-text"><span aria-hidden="true">✗</span> {r.error}</p>}
      {r.objects.some((o) => o.message !== undefined) ? (
        <ul className="object-messages">
          {r.objects.filter((o) => o.message !== undefined).map((o) => <li key={refText(o.ref)}><code>{refText(o.ref)}</code> {o.action}: {o.message}</li>)}
        </ul>
      ) : null}
      {(r.commands ?? []).map((c, i) => (
        <details key={i} className="command" data-testid="history-command">
          <summary>
            <span aria-hidden="true">{c.exitCode === 0 ? "✓" : "✗"}</span> {c.phase}: <code>{c.command.join(" ")}</code> exit {c.exitCode}, {formatDuration(c.durationMs)}
          </summary>
          <pre>{c.output === "" ? "(no output)" : c.output}</pre>
        </details>
      ))}
    </li>
  );
}
