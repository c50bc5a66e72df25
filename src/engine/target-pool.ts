import type { StackInstance } from "../config/stack-instances.ts";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { Provider, ProviderContext, TargetSession } from "../providers/provider.ts";

/** How a {@link TargetPool} opens sessions. */
export interface TargetPoolOptions {
  /** Providers by name (`kubernetes`, `host`, ...). */
  readonly providers: Readonly<Record<string, Provider>>;
  /** The credentials for a target: from CLI flags (push) or the agent configuration (pull). */
  readonly context: (instance: StackInstance) => ProviderContext;
  /**
   * A session that failed to open is opened again on the next request (the agent, which runs
   * for days) rather than failing every later stack of the run with the same error (the CLI).
   */
  readonly reopenFailed?: boolean;
}

/**
 * One session per (environment, target), opened on first use and shared by every stack of
 * that target; {@link TargetPool.close} closes them all.
 */
export class TargetPool {
  readonly #o: TargetPoolOptions;
  readonly #sessions = new Map<string, Promise<TargetSession>>();

  constructor(opts: TargetPoolOptions) {
    this.#o = opts;
  }

  /** The session of the instance's target; rejects when the provider is missing or the target cannot be opened. */
  session(instance: StackInstance): Promise<TargetSession> {
    const key = `${instance.environment}/${instance.targetName}`;
    let s = this.#sessions.get(key);
    if (s === undefined) {
      const provider = this.#o.providers[instance.target.provider];
      s = provider === undefined
        ? Promise.reject(new GitwardError(ErrorCode.Config, `target ${instance.targetName}: provider "${instance.target.provider}" is not available in this build`))
        : provider.open(instance.targetName, instance.target, this.#o.context(instance));
      // A rejection is reported by the stack that awaits it; this keeps it from being unhandled meanwhile.
      s.catch(() => {
        if (this.#o.reopenFailed === true && this.#sessions.get(key) === s) this.#sessions.delete(key);
      });
      this.#sessions.set(key, s);
    }
    return s;
  }

  /** Closes every session opened; failures to close are ignored (the process is done with them). */
  async close(): Promise<void> {
    const all = [...this.#sessions.values()];
    this.#sessions.clear();
    await Promise.allSettled(all.map(async (s) => (await s).close()));
  }
}
