import { ForgeError, type CommitState, type Forge, type ForgeKind } from "../forge/forge.ts";
import type { EnvironmentStatus } from "./statuses.ts";
import { tokenHint } from "./token.ts";

/** Where the plan is published, for messages: never the token, only where it came from. */
export interface PublishTarget {
  readonly forge: ForgeKind;
  readonly apiUrl: string;
  readonly repository: string;
  readonly pr: number;
  /** The commit the statuses go on. */
  readonly sha: string;
  /** `$GITHUB_TOKEN` or a file path. */
  readonly tokenSource: string;
}

/** One forge call that failed: what was tried, what the forge said, and what to do. */
export interface PublishFailure {
  readonly call: string;
  readonly message: string;
  readonly hint: string;
}

/** A status as it was set, or why not. */
export interface StatusOutcome {
  readonly context: string;
  readonly state: CommitState;
  readonly description: string;
  readonly set: boolean;
}

/** What publishing did. */
export interface PublishOutcome {
  /** The comment's id and whether it was created (else updated); undefined when it failed. */
  readonly comment: { readonly id: string; readonly created: boolean } | undefined;
  readonly statuses: readonly StatusOutcome[];
  readonly failures: readonly PublishFailure[];
}

/**
 * Posts (or updates) the plan comment, then sets each status. A failure is recorded and the
 * next call still tried, so a token that may set statuses but not comment still sets them;
 * after a refused token or an unreachable forge the rest is not tried, as it cannot succeed.
 */
export async function publishPlan(forge: Forge, target: PublishTarget, comment: { marker: string; body: string }, statuses: readonly EnvironmentStatus[], progress: (m: string) => void): Promise<PublishOutcome> {
  const failures: PublishFailure[] = [];
  let stop: string | undefined;
  const attempt = async <T>(call: string, f: () => Promise<T>): Promise<T | undefined> => {
    if (stop !== undefined) return undefined;
    try {
      return await f();
    } catch (e: unknown) {
      const failure = describeFailure(e, call, target);
      failures.push(failure);
      if (e instanceof ForgeError && (e.kind === "auth" || e.kind === "unreachable")) stop = failure.message;
      return undefined;
    }
  };
  progress(`posting the plan to ${forge.ref(target.pr)} on ${target.forge}`);
  const posted = await attempt(`posting the plan comment on ${forge.ref(target.pr)}`, () => forge.upsertComment(target.pr, comment.marker, comment.body));
  if (posted !== undefined) progress(`${posted.created ? "created" : "updated"} comment ${posted.id} on ${forge.ref(target.pr)}`);
  const outcomes: StatusOutcome[] = [];
  for (const { status } of statuses) {
    const done = await attempt(`setting status ${status.context} on ${target.sha.slice(0, 12)}`, async () => {
      await forge.setStatus(target.sha, status);
      return true;
    });
    outcomes.push({ context: status.context, state: status.state, description: status.description, set: done === true });
  }
  const set = outcomes.filter((o) => o.set).length;
  if (set > 0) progress(`set ${set} status${set === 1 ? "" : "es"} on ${target.sha.slice(0, 12)}`);
  if (stop !== undefined && outcomes.some((o) => !o.set)) {
    failures.push({ call: "the remaining calls", message: `not tried after: ${stop}`, hint: "fix the error above and run again" });
  }
  return { comment: posted, statuses: outcomes, failures };
}

/** A forge failure as a message naming the call, the forge and the repository, and a hint for the fix. */
export function describeFailure(e: unknown, call: string, t: PublishTarget): PublishFailure {
  const where = `${t.forge} at ${t.apiUrl}, repository ${t.repository}`;
  if (!(e instanceof ForgeError)) {
    const why = e instanceof Error ? e.message : String(e);
    return { call, message: `${call} (${where}) failed: ${why}`, hint: "run again with --debug; if it persists, report it" };
  }
  const status = e.status === undefined ? "" : ` (HTTP ${e.status})`;
  return { call, message: `${call} (${where}) failed${status}: ${e.message}`, hint: hintFor(e, t) };
}

function hintFor(e: ForgeError, t: PublishTarget): string {
  switch (e.kind) {
    case "auth":
      return `the token from ${t.tokenSource} was refused: check it is set, not expired or revoked, and meant for ${t.apiUrl}; ${tokenHint(t.forge)}`;
    case "forbidden":
      return `the token from ${t.tokenSource} lacks a permission: ${permissions(t.forge)}`;
    case "not-found":
      return `check the repository (${t.repository}, --repository), the pull request (${t.pr}, --pr) and the API URL (--api-url), and that the token can see the repository`;
    case "rate-limited":
      return "the forge rate-limited the token: wait for the limit to reset and run the job again";
    case "unreachable":
      return `check that ${t.apiUrl} is the forge's API URL and reachable from the runner (--api-url), and the forge's status`;
    case "invalid":
      return "the forge refused the request; run again with --debug and report it if the request looks right";
  }
}

function permissions(forge: ForgeKind): string {
  if (forge === "gitlab") return "a project or personal access token with the api scope, and the Reporter role or above (Developer to set statuses on protected branches); CI_JOB_TOKEN cannot post notes";
  if (forge === "gitea") return "a token with write access to the repository and its issues (write:repository, write:issue)";
  return "the workflow needs permissions: pull-requests: write and statuses: write (a pull request from a fork gets a read-only token)";
}
