import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { RenderedObject } from "../core/object.ts";
import type { Provider, ProviderContext, TargetSession } from "../providers/provider.ts";
import { decryptForTarget, type DecryptedObject } from "./decrypt-stage.ts";
import { SecretKeys } from "./secret-keys.ts";

/** A target of an environment, as gitward.yaml defines it (a stack instance is one). */
export interface TargetRef {
  readonly environment: string;
  readonly targetName: string;
  readonly target: Readonly<Record<string, unknown>> & { readonly provider: string };
}

/** How a {@link TargetPool} opens sessions. */
export interface TargetPoolOptions {
  /** Providers by name (`kubernetes`, `host`, ...). */
  readonly providers: Readonly<Record<string, Provider>>;
  /** The credentials for a target: from CLI flags (push) or the agent configuration (pull). */
  readonly context: (target: TargetRef) => ProviderContext;
  /**
   * A session that failed to open is opened again on the next request (the agent, which runs
   * for days) rather than failing every later stack of the run with the same error (the CLI).
   */
  readonly reopenFailed?: boolean;
  /** Where SOPS private keys come from; default the sops conventions of the process environment. */
  readonly secretKeys?: SecretKeys;
}

interface Entry {
  readonly definition: string;
  readonly session: Promise<TargetSession>;
  users: number;
  retired: boolean;
}

/**
 * One session per (environment, target), opened on first use and shared by every stack of
 * that target. When a target's definition changes (a commit edits its root, context or
 * commands, or the runner's credentials change), the next use opens a new session; the old one
 * is closed once nothing uses it. {@link TargetPool.close} closes them all.
 */
export class TargetPool {
  readonly #o: TargetPoolOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #retired = new Set<Entry>();
  #secretKeys: SecretKeys | undefined;

  constructor(opts: TargetPoolOptions) {
    this.#o = opts;
  }

  /** Runs `fn` with the target's session; the session stays open at least until `fn` ends. */
  async use<T>(target: TargetRef, fn: (session: TargetSession) => Promise<T>): Promise<T> {
    const entry = this.#entry(target);
    entry.users++;
    try {
      return await fn(await entry.session);
    } finally {
      entry.users--;
      if (entry.retired && entry.users === 0) await this.#closeEntry(entry);
    }
  }

  /**
   * The objects a target is given: SOPS-encrypted ones decrypted with the environment's keys
   * (see {@link decryptForTarget}). Plaintext goes from here to the session and nowhere else.
   */
  decrypt(target: TargetRef, objects: readonly RenderedObject[]): Promise<DecryptedObject[]> {
    const keys = this.#keys;
    return decryptForTarget(objects, { environment: target.environment, keyring: () => keys.keyring(target.environment), keyHint: keys.hint(target.environment) });
  }

  get #keys(): SecretKeys {
    this.#secretKeys ??= this.#o.secretKeys ?? new SecretKeys();
    return this.#secretKeys;
  }

  /** The session of the target, for a caller that holds no lease (it may be replaced and closed later). */
  session(target: TargetRef): Promise<TargetSession> {
    return this.#entry(target).session;
  }

  #entry(target: TargetRef): Entry {
    const key = `${target.environment}/${target.targetName}`;
    const context = this.#o.context(target);
    const definition = stableJson({ target: target.target, context: { ...context, signal: undefined } });
    const current = this.#entries.get(key);
    if (current !== undefined && current.definition === definition) return current;
    if (current !== undefined) this.#retire(current);
    const provider = this.#o.providers[target.target.provider];
    const session = provider === undefined
      ? Promise.reject(new GitwardError(ErrorCode.Config, `target ${target.targetName}: provider "${target.target.provider}" is not available in this build`))
      : provider.open(target.targetName, target.target, context);
    const entry: Entry = { definition, session, users: 0, retired: false };
    // A rejection is reported by the stack that awaits it; this keeps it from being unhandled meanwhile.
    session.catch(() => {
      if (this.#o.reopenFailed === true && this.#entries.get(key) === entry) this.#entries.delete(key);
    });
    this.#entries.set(key, entry);
    return entry;
  }

  #retire(entry: Entry): void {
    entry.retired = true;
    if (entry.users === 0) void this.#closeEntry(entry);
    else this.#retired.add(entry);
  }

  async #closeEntry(entry: Entry): Promise<void> {
    this.#retired.delete(entry);
    await entry.session.then((s) => s.close(), () => undefined).catch(() => undefined);
  }

  /** Closes every session opened; failures to close are ignored (the process is done with them). */
  async close(): Promise<void> {
    const all = [...this.#entries.values(), ...this.#retired];
    this.#entries.clear();
    this.#retired.clear();
    await Promise.allSettled(all.map((e) => this.#closeEntry(e)));
  }
}

/** JSON with object keys sorted, so equal definitions compare equal. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}
