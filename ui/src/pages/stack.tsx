/**
 * A stack's page: where it stands (revision, sync, health, drift, gate), its objects with
 * health, the live diff, the history timeline and drift details, and, for operators, Sync and
 * Rollback.
 */
import { formatTime } from "../format.ts";
import { useStackDetail, useStatusLite } from "../queries.ts";
import { routeHash } from "../route.ts";
import type { Me, StackDetail } from "../types.ts";
import { StackActions } from "./actions.tsx";
import { DiffView } from "./diff-view.tsx";
import { DriftDetails } from "./drift.tsx";
import { HistoryTimeline, Revision } from "./history.tsx";
import { refText } from "./refs.ts";
import { Empty, ErrorBox, Loading, StateBadge } from "../widgets.tsx";

/** The stack page. */
export function StackPage(props: { environment: string; stack: string; me: Me }) {
  const detail = useStackDetail(props.environment, props.stack);
  const status = useStatusLite();
  const repo = status.data?.repo;
  return (
    <article data-testid="stack-page" aria-labelledby="stack-title">
      <p><a href={routeHash({ page: "overview" })}>← Overview</a></p>
      <h1 id="stack-title">{props.stack} <span className="muted">in {props.environment}</span></h1>
      {detail.isPending ? <Loading what="the stack" />
        : detail.isError ? <ErrorBox error={detail.error} retry={() => void detail.refetch()} />
        : (
          <>
            <Summary s={detail.data} repo={repo} />
            <StackActions stack={detail.data} me={props.me} />
            <Objects s={detail.data} />
          </>
        )}
      {detail.isError ? null : (
        <>
          <DiffView environment={props.environment} stack={props.stack} />
          <HistoryTimeline environment={props.environment} stack={props.stack} repo={repo} />
          <DriftDetails environment={props.environment} stack={props.stack} />
        </>
      )}
    </article>
  );
}

function Summary(props: { s: StackDetail; repo: string | undefined }) {
  const s = props.s;
  const sync = s.queued ? "queued" : s.current === undefined ? "never" : s.inSync ? "in-sync" : "out-of-sync";
  return (
    <dl className="facts summary" data-testid="stack-summary">
      <div><dt>State</dt><dd><StateBadge kind="sync" value={sync} testId="stack-sync" /></dd></div>
      <div><dt>Synced revision</dt><dd>{s.current === undefined ? "none" : <Revision sha={s.current} repo={props.repo} />}</dd></div>
      <div><dt>Git wants</dt><dd>{s.desired === undefined ? "unknown" : <Revision sha={s.desired} repo={props.repo} />}</dd></div>
      <div><dt>Target</dt><dd>{s.target}</dd></div>
      <div><dt>Last sync</dt><dd>{s.lastSync === undefined ? "never" : <><StateBadge kind="outcome" value={s.lastSync.outcome} /> {formatTime(s.lastSync.at)}</>}</dd></div>
      <div><dt>Health</dt><dd>{s.health === undefined ? "not followed" : <StateBadge kind="health" value={s.health.state} testId="stack-health" />}</dd></div>
      <div><dt>Drift</dt><dd data-testid="stack-drift">{s.drift === 0 ? "none" : `${s.drift} object${s.drift === 1 ? " differs" : "s differ"}`}{s.driftCheckedAt === undefined ? "" : ` (checked ${formatTime(s.driftCheckedAt)})`}</dd></div>
      <div><dt>Gate</dt><dd><StateBadge kind="gate" value={s.gate.state} testId="stack-gate" />{s.gate.reasons.length === 0 ? null : <> {s.gate.reasons.join("; ")}</>}</dd></div>
      {s.lastSync?.error === undefined ? null : <div className="wide"><dt>Error</dt><dd className="error-text">{s.lastSync.error}</dd></div>}
      {s.health?.message === undefined ? null : <div className="wide"><dt>Health detail</dt><dd>{s.health.message}</dd></div>}
    </dl>
  );
}

function Objects(props: { s: StackDetail }) {
  const objects = props.s.objects;
  return (
    <section aria-labelledby="objects-title" data-testid="objects">
      <h2 id="objects-title">Objects</h2>
      {objects.length === 0 ? <Empty>No objects recorded for this stack yet (it has not been synced).</Empty> : (
        <div className="table-scroll">
          <table className="list">
            <thead><tr><th scope="col">Object</th><th scope="col">API version</th><th scope="col">Health</th><th scope="col">Detail</th></tr></thead>
            <tbody>
              {objects.map((o) => (
                <tr key={`${o.ref.group}:${refText(o.ref)}`} data-testid="object-row">
                  <td><code>{refText(o.ref)}</code></td>
                  <td>{o.apiVersion}</td>
                  <td><StateBadge kind="health" value={o.health} /></td>
                  <td>{o.message ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
