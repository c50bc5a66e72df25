/**
 * Sync and Rollback, for operators of the environment: each opens a dialog that says exactly
 * what will happen (which revision, which objects; for a rollback, which change is reverted),
 * then POSTs with the session's CSRF token. The buttons are not rendered for anyone else.
 */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { getJson, send } from "../api.ts";
import { shortSha } from "../commit-link.ts";
import { keys } from "../keys.ts";
import { allowed } from "../permissions.ts";
import { useDiff, useHistory, useStatusLite } from "../queries.ts";
import type { Me, RollbackDone, Stack, SyncAccepted, SyncRow } from "../types.ts";
import { Revision } from "./history.tsx";
import { refText } from "./refs.ts";
import { Dialog, ErrorBox, Loading, StateBadge } from "../widgets.tsx";

/** The session's CSRF token: from /me, else from /auth/csrf. */
async function csrf(me: Me): Promise<string | undefined> {
  if (me.csrfToken !== undefined) return me.csrfToken;
  try {
    return (await getJson<{ csrfToken?: string; token?: string }>("/auth/csrf", "CSRF token")).csrfToken;
  } catch {
    return undefined;
  }
}

/** The Sync and Rollback buttons of a stack, or nothing for those not allowed. */
export function StackActions(props: { stack: Stack; me: Me }) {
  const [open, setOpen] = useState<"sync" | "rollback" | undefined>(undefined);
  const env = props.stack.environment;
  const canSync = allowed(props.me, "sync", env);
  const canRollback = allowed(props.me, "rollback", env);
  if (!canSync && !canRollback) return null;
  return (
    <div className="actions">
      {canSync ? <button type="button" className="primary" onClick={() => setOpen("sync")} data-testid="sync-button">Sync…</button> : null}
      {canRollback ? <button type="button" className="danger" onClick={() => setOpen("rollback")} data-testid="rollback-button">Roll back…</button> : null}
      {open === "sync" ? <SyncDialog stack={props.stack} me={props.me} onClose={() => setOpen(undefined)} /> : null}
      {open === "rollback" ? <RollbackDialog stack={props.stack} me={props.me} onClose={() => setOpen(undefined)} /> : null}
    </div>
  );
}

function SyncDialog(props: { stack: Stack; me: Me; onClose: () => void }) {
  const s = props.stack;
  const client = useQueryClient();
  const diff = useDiff(s.environment, s.stack);
  const status = useStatusLite();
  const [reason, setReason] = useState("");
  const sync = useMutation({
    mutationFn: async () => send<SyncAccepted>("POST", "/api/v1/sync", `sync of ${s.environment}/${s.stack}`,
      { environment: s.environment, stack: s.stack, ...(reason.trim() === "" ? {} : { reason: reason.trim() }) }, await csrf(props.me)),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.stack(s.environment, s.stack) }),
  });
  const changes = diff.data?.entries.filter((e) => e.action !== "no-op") ?? [];
  const revision = s.desired ?? diff.data?.revision;
  return (
    <Dialog title={`Sync ${s.stack} in ${s.environment}`} onClose={props.onClose} testId="sync-dialog">
      <p data-testid="sync-what">
        gitward will apply revision <Revision sha={revision ?? ""} repo={status.data?.repo} />
        {status.data?.head !== undefined && status.data.head.sha === revision ? <> (“{status.data.head.subject}”, the head of {status.data.branch})</> : null}
        {" "}to stack <strong>{s.stack}</strong> on target <strong>{s.target}</strong>, now, through the agent's queue.
      </p>
      {s.gate.state === "held" || s.gate.state === "refused"
        ? <p className="warn-text"><StateBadge kind="gate" value={s.gate.state} /> The gate stops this revision: {s.gate.reasons.join("; ")}. The sync will be recorded as skipped.</p>
        : null}
      <h3>Objects it changes</h3>
      {diff.isPending ? <Loading what="the live diff" />
        : diff.isError ? <p className="warn-text">The live diff could not be read ({diff.error.message}); the sync applies whatever differs when it runs.</p>
        : changes.length === 0 ? <p data-testid="sync-objects-none">None: the target already matches Git. The sync re-checks and records it.</p>
        : (
          <ul className="object-list" data-testid="sync-objects">
            {changes.map((e) => <li key={`${e.ref.group}:${refText(e.ref)}`}><StateBadge kind="action" value={e.action} /> <code>{refText(e.ref)}</code></li>)}
          </ul>
        )}
      <label className="field">Reason (optional, recorded in the audit log)
        <input value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} data-testid="sync-reason" />
      </label>
      {sync.isError ? <ErrorBox error={sync.error} /> : null}
      {sync.isSuccess
        ? <p role="status" data-testid="sync-result"><span aria-hidden="true">✓</span> Queued {sync.data.queued} sync{sync.data.queued === 1 ? "" : "s"}{sync.data.revision === undefined ? "" : ` of ${shortSha(sync.data.revision)}`}. The history below updates when it runs.</p>
        : null}
      <div className="dialog-buttons">
        <button type="button" onClick={props.onClose} data-testid="dialog-cancel">{sync.isSuccess ? "Close" : "Cancel"}</button>
        {sync.isSuccess ? null : (
          <button type="button" className="primary" disabled={sync.isPending} onClick={() => sync.mutate()} data-testid="sync-confirm">
            {sync.isPending ? "Syncing…" : `Sync ${s.stack}`}
          </button>
        )}
      </div>
    </Dialog>
  );
}

/** Summary keys that are no change to the target (the store's and the API's words). */
const unchangedActions = new Set(["unchanged", "no-op", "skipped", "failed"]);

/** Changes deployed to the stack, newest first: syncs that succeeded and changed something, one per revision. */
function deployedChanges(rows: readonly SyncRow[]): SyncRow[] {
  const seen = new Set<string>();
  return rows.filter((r) => {
    const changed = Object.entries(r.summary).some(([a, n]) => !unchangedActions.has(a) && n > 0);
    if (r.outcome !== "succeeded" || !changed || seen.has(r.revision.sha)) return false;
    seen.add(r.revision.sha);
    return true;
  });
}

function RollbackDialog(props: { stack: Stack; me: Me; onClose: () => void }) {
  const s = props.stack;
  const client = useQueryClient();
  const history = useHistory(s.environment, s.stack);
  const status = useStatusLite();
  const [steps, setSteps] = useState(1);
  const [reason, setReason] = useState("");
  const rollback = useMutation({
    mutationFn: async () => send<RollbackDone>("POST", "/api/v1/rollback", `rollback of ${s.environment}/${s.stack}`,
      { environment: s.environment, stack: s.stack, steps, reason: reason.trim() }, await csrf(props.me)),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.stack(s.environment, s.stack) }),
  });
  const changes = deployedChanges(history.data?.pages.flatMap((p) => p.items) ?? []).slice(0, steps);
  const repo = status.data?.repo;
  const valid = reason.trim().length >= 3;
  return (
    <Dialog title={`Roll back ${s.stack} in ${s.environment}`} onClose={props.onClose} testId="rollback-dialog">
      <p data-testid="rollback-what">
        gitward will make a commit that reverts the last <strong>{steps}</strong> commit{steps === 1 ? "" : "s"} that changed what
        {" "}<strong>{s.stack}</strong> renders for <strong>{s.environment}</strong>, push it to <strong>{status.data?.branch ?? "the branch the agent follows"}</strong>,
        {" "}and sync it like any commit. Nothing else in the repository changes. The commit names you ({props.me.name}) and your reason.
      </p>
      <h3>Changes deployed to this stack, newest first</h3>
      {history.isPending ? <Loading what="history" />
        : history.isError ? <ErrorBox error={history.error} />
        : changes.length === 0 ? <p className="warn-text">History shows no deployed change to revert; the agent answers 409 when there is nothing to roll back.</p>
        : (
          <ol className="object-list" data-testid="rollback-commits">
            {changes.map((r) => (
              <li key={r.id}>
                <Revision sha={r.revision.sha} repo={repo} /> {r.revision.message.split("\n", 1)[0]} <span className="muted">({r.revision.author})</span>
                <ul>{r.objects.filter((o) => !unchangedActions.has(o.action)).slice(0, 20).map((o) => <li key={`${o.ref.group}:${refText(o.ref)}`}><code>{refText(o.ref)}</code> {o.action}</li>)}</ul>
              </li>
            ))}
          </ol>
        )}
      <p className="muted">The agent picks the commits by rendering each one, as <code>gitward rollback --steps</code> does; what it reverted is listed once it is done.</p>
      <label className="field">Commits to revert
        <input type="number" min={1} max={50} value={steps} onChange={(e) => setSteps(Math.max(1, Math.min(50, Number(e.target.value) || 1)))} data-testid="rollback-steps" />
      </label>
      <label className="field">Reason (required, written into the commit message)
        <input value={reason} maxLength={500} required onChange={(e) => setReason(e.target.value)} data-testid="rollback-reason" />
      </label>
      {rollback.isError ? <ErrorBox error={rollback.error} /> : null}
      {rollback.isSuccess ? (
        <div role="status" data-testid="rollback-result">
          <p><span aria-hidden="true">✓</span> Pushed revert commit <Revision sha={rollback.data.revertCommit} repo={repo} />, reverting:</p>
          <ul>{rollback.data.reverted.map((c) => <li key={c.sha}><Revision sha={c.sha} repo={repo} /> {c.subject}</li>)}</ul>
        </div>
      ) : null}
      <div className="dialog-buttons">
        <button type="button" onClick={props.onClose} data-testid="dialog-cancel">{rollback.isSuccess ? "Close" : "Cancel"}</button>
        {rollback.isSuccess ? null : (
          <button type="button" className="danger" disabled={!valid || rollback.isPending} onClick={() => rollback.mutate()} data-testid="rollback-confirm">
            {rollback.isPending ? "Rolling back…" : `Revert ${steps} commit${steps === 1 ? "" : "s"}`}
          </button>
        )}
      </div>
    </Dialog>
  );
}
