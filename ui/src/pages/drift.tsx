/** Drift details of a stack: which fields changed outside gitward, by whom and when, and whether self-heal put them back. */
import { driftSentences } from "../drift-text.ts";
import { formatTime } from "../format.ts";
import { useDrift } from "../queries.ts";
import { refText } from "./refs.ts";
import { Empty, ErrorBox, Loading } from "../widgets.tsx";

/** The drift section of the stack page. */
export function DriftDetails(props: { environment: string; stack: string }) {
  const d = useDrift(props.environment, props.stack);
  const rows = d.data?.pages.flatMap((p) => p.items) ?? [];
  const now = new Date();
  return (
    <section aria-labelledby="drift-title" data-testid="drift">
      <h2 id="drift-title">Drift</h2>
      {d.isPending ? <Loading what="drift" />
        : d.isError ? <ErrorBox error={d.error} retry={() => void d.refetch()} />
        : rows.length === 0 ? <Empty>No drift found: nothing was changed outside gitward.</Empty>
        : (
          <ul className="drift-list">
            {rows.map((r) => (
              <li key={r.id} data-testid="drift-entry" data-corrected={String(r.corrected)}>
                <code>{refText(r.ref)}</code>{" "}
                {r.corrected
                  ? <span className="badge tone-ok"><span aria-hidden="true">↺</span> corrected</span>
                  : <span className="badge tone-warn"><span aria-hidden="true">≠</span> still differs</span>}
                <span className="muted"> found {formatTime(r.detectedAt)}</span>
                <ul>{driftSentences(r, { now }).map((s, i) => <li key={i}>{s}</li>)}</ul>
              </li>
            ))}
          </ul>
        )}
      {d.hasNextPage ? <button type="button" onClick={() => void d.fetchNextPage()} disabled={d.isFetchingNextPage}>Older drift</button> : null}
    </section>
  );
}
