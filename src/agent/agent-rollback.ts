import type { CommandRunner } from "../core/command-runner.ts";
import { ErrorCode, isGitwardError } from "../core/errors.ts";
import type { Logger } from "pino";
import type { Recorder } from "../engine/recorder.ts";
import { rollback, type RollbackResult } from "../engine/rollback.ts";

/** A rollback asked through the API: what to undo, why, and who asked. */
export interface AgentRollbackRequest {
  readonly environment: string;
  readonly stack?: string;
  /** Commits that changed what the environment (or stack) renders to revert; default 1. */
  readonly steps?: number;
  readonly reason: string;
  /** Who asked (the principal's name): the commit's author and the audit event's actor. */
  readonly by: string;
}

/** Why a rollback was not made: no such stack served (`not-found`), nothing to undo or a refused push (`conflict`), or the repository failing (`upstream`). */
export class RollbackFailed extends Error {
  readonly kind: "not-found" | "conflict" | "upstream";
  constructor(kind: "not-found" | "conflict" | "upstream", message: string) {
    super(message);
    this.name = "RollbackFailed";
    this.kind = kind;
  }
}

/** What the agent rolls back with. */
export interface AgentRollbackContext {
  readonly repo: string;
  readonly branch: string;
  readonly configPath: string;
  readonly cacheDir: string;
  readonly runner: CommandRunner;
}

/**
 * `gitward rollback --push` on the agent's repository and branch: a revert commit authored by
 * whoever asked, pushed to the branch the agent follows. Errors become {@link RollbackFailed}
 * with the agent's own repository location taken out of the message (a path of its machine,
 * or a URL).
 */
export async function rollbackThroughGit(ctx: AgentRollbackContext, req: AgentRollbackRequest): Promise<RollbackResult> {
  const env = {
    ...process.env,
    // The author is who asked; the agent commits for them.
    GIT_AUTHOR_NAME: req.by, GIT_AUTHOR_EMAIL: "api@gitward.invalid",
    GIT_COMMITTER_NAME: process.env["GIT_COMMITTER_NAME"] ?? "gitward agent", GIT_COMMITTER_EMAIL: process.env["GIT_COMMITTER_EMAIL"] ?? "agent@gitward.invalid",
  };
  try {
    return await rollback({
      repo: ctx.repo, sourceBranch: ctx.branch, configPath: ctx.configPath, environment: req.environment,
      ...(req.stack === undefined ? {} : { stack: req.stack }),
      target: { kind: "steps", steps: req.steps ?? 1 }, reason: req.reason, publish: { kind: "push" },
      env, cacheDir: ctx.cacheDir, runner: ctx.runner, timeoutMs: 120_000,
    });
  } catch (e: unknown) {
    if (!isGitwardError(e)) throw e;
    const message = hideRepository(e.message, ctx.repo);
    // A rejected push, nothing to undo, a refused revert: the repository's state says no (409).
    // Failing to reach or read the repository is the upstream's fault (502).
    const unreachable = e.code === ErrorCode.Git && !/was rejected/.test(e.message)
      && /clon|fetch|unable to access|could not read|timed out|timeout|connect|authenticat|permission denied|not found|does not exist/i.test(e.message);
    throw new RollbackFailed(unreachable ? "upstream" : "conflict", message);
  }
}

function hideRepository(message: string, repo: string): string {
  let out = message.replaceAll(repo, "the agent's repository");
  // A URL's credentials-free form is how git names it in messages.
  try {
    const u = new URL(repo);
    u.username = "";
    u.password = "";
    out = out.replaceAll(u.toString(), "the agent's repository").replaceAll(u.toString().replace(/\/$/, ""), "the agent's repository");
  } catch {
    // a local path: replaced above
  }
  return out;
}

/** A rollback made through the API is audited with who asked and why, and logged. */
export async function auditApiRollback(recorder: Recorder, logger: Logger, req: AgentRollbackRequest, result: RollbackResult): Promise<void> {
  await recorder.audit({
    kind: "rollback", actor: req.by, environment: req.environment, revision: result.commit, ...(req.stack === undefined ? {} : { stack: req.stack }),
    details: { via: "api", reason: req.reason, steps: req.steps ?? 1, reverted: result.reverted.map((c) => ({ sha: c.sha, subject: c.subject })) },
  });
  logger.warn({ environment: req.environment, stack: req.stack, by: req.by, commit: result.commit, reverted: result.reverted.length }, "rolled back through Git");
}
