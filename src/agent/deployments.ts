import type { Logger } from "pino";
import type { Recorder } from "../engine/recorder.ts";
import type { CommitState, Forge } from "../forge/forge.ts";

/** Options of {@link DeploymentStatuses}. */
export interface DeploymentStatusOptions {
  readonly forge: Forge;
  readonly recorder: Recorder;
  readonly logger: Logger;
  /** The agent's address, linked from each status. */
  readonly url?: string | undefined;
}

/** The stacks of an environment at a revision, and the one that just reconciled. */
export interface EnvironmentProgress {
  readonly environment: string;
  readonly revision: string;
  readonly stacks: readonly string[];
  /** Set while the approval gate holds the revision. */
  readonly held?: string | undefined;
}

/**
 * The deployment status of each environment on the commit it deploys: a commit status
 * `gitward/<environment>` that goes pending while stacks sync (or wait for approval), then
 * success when every stack of the environment synced the revision, or failure when one failed.
 * A status is sent only when it changes; a forge that cannot be reached is logged, never fatal.
 */
export class DeploymentStatuses {
  readonly #o: DeploymentStatusOptions;
  readonly #sent = new Map<string, string>();
  #chain: Promise<void> = Promise.resolve();

  constructor(o: DeploymentStatusOptions) {
    this.#o = o;
  }

  /** Works out the environment's state from the recorded syncs and sends it when it changed; calls are sent in order. */
  report(p: EnvironmentProgress): Promise<void> {
    this.#chain = this.#chain.then(() => this.#report(p)).catch((e: unknown) => {
      this.#o.logger.warn({ environment: p.environment, revision: p.revision, forge: this.#o.forge.kind, err: e instanceof Error ? e.message : String(e) }, "could not set the commit status");
    });
    return this.#chain;
  }

  async #report(p: EnvironmentProgress): Promise<void> {
    const { state, description } = p.held !== undefined ? { state: "pending" as const, description: `waiting for approval: ${p.held}` } : await this.#state(p);
    const key = `${p.environment}@${p.revision}`;
    const signature = `${state}:${description}`;
    if (this.#sent.get(key) === signature) return;
    this.#sent.set(key, signature);
    if (this.#sent.size > 1000) this.#sent.delete(this.#sent.keys().next().value ?? "");
    await this.#o.forge.setStatus(p.revision, {
      context: `gitward/${p.environment}`, state, description: description.slice(0, 140),
      ...(this.#o.url === undefined ? {} : { targetUrl: `${this.#o.url.replace(/\/$/, "")}/` }),
    });
  }

  async #state(p: EnvironmentProgress): Promise<{ state: CommitState; description: string }> {
    let synced = 0;
    for (const stack of p.stacks) {
      const { last, good } = await this.#o.recorder.recorded(p.environment, stack);
      if (last?.revision.sha === p.revision && last.outcome === "failed") {
        return { state: "failure", description: `${stack} failed: ${(last.error ?? "sync failed").split("\n")[0] ?? ""}` };
      }
      if (good?.revision.sha === p.revision) synced++;
    }
    if (synced === p.stacks.length) return { state: "success", description: `${p.environment}: ${synced} stack${synced === 1 ? "" : "s"} synced` };
    return { state: "pending", description: `${p.environment}: ${synced} of ${p.stacks.length} stacks synced` };
  }
}
