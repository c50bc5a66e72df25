import type { Recorder } from "../engine/recorder.ts";
import { revisionInfo } from "../engine/sync-environment.ts";
import type { Commit } from "../source/types.ts";
import type { SyncTrigger } from "../store/store.ts";
import type { RevisionRefused } from "./repo-watch.ts";

/** The stack a refusal is recorded for, and what asked for it. */
export interface RefusedItem {
  readonly environment: string;
  readonly stack: string;
  readonly trigger: SyncTrigger;
}

/**
 * Records that a stack was not synced because its environment refused the head revision (an
 * invalid gitward.yaml, a missing or untrusted signature), with the reason, once per revision
 * and reason: a sync row `failed` that syncs nothing, counted as refused. The stack stays on its
 * last good revision.
 */
export async function recordRefusal(recorder: Recorder, head: Commit | undefined, item: RefusedItem, refused: RevisionRefused): Promise<boolean> {
  const error = `revision not applied: ${refused.message}; the stack stays on its last good revision`;
  const { last } = await recorder.recorded(item.environment, item.stack);
  if (last?.revision.sha === refused.revision && last.outcome === "failed" && last.error === error) return false;
  const revision = head?.sha === refused.revision ? revisionInfo(head) : { sha: refused.revision, author: "", message: "" };
  const id = await recorder.begin({ environment: item.environment, stack: item.stack, revision, trigger: item.trigger, summary: {}, objects: [] });
  await recorder.finish(id, { outcome: "failed", error, summary: {}, objects: [], durationMs: 0 }, { refused: true });
  return true;
}
