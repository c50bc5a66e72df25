import { randomBytes } from "node:crypto";
import type { Principal } from "./access.ts";

/**
 * A map whose entries expire and whose size is bounded: when full, expired entries go first,
 * then the oldest. Memory stays bounded whatever a client does (every login attempt and every
 * session is one entry).
 */
export class ExpiringMap<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  readonly #max: number;
  readonly #now: () => number;

  constructor(o: { readonly max: number; readonly now?: () => number }) {
    this.#max = o.max;
    this.#now = o.now ?? Date.now;
  }

  /** Entries held, expired ones not yet swept included. */
  get size(): number {
    return this.#entries.size;
  }

  /** Stores a value until `expiresAt` (milliseconds since the epoch). */
  set(key: string, value: V, expiresAt: number): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#max) this.#makeRoom();
    this.#entries.set(key, { value, expiresAt });
  }

  /** The value, or undefined when absent or expired (an expired entry is removed). */
  get(key: string): V | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    if (e.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** Removes and returns a value: for one-time entries such as a login's state. */
  take(key: string): V | undefined {
    const v = this.get(key);
    this.#entries.delete(key);
    return v;
  }

  /** Removes an entry; true when it was there. */
  delete(key: string): boolean {
    return this.#entries.delete(key);
  }

  #makeRoom(): void {
    const now = this.#now();
    for (const [k, e] of this.#entries) if (e.expiresAt <= now) this.#entries.delete(k);
    // Still full: the oldest entries (Map keeps insertion order) make way.
    for (const k of this.#entries.keys()) {
      if (this.#entries.size < this.#max) break;
      this.#entries.delete(k);
    }
  }
}

/** What a browser session stands for and how it was opened. */
export interface SessionData {
  readonly principal: Principal;
  /** An OIDC login: the ID token, kept for the provider's logout (`id_token_hint`); never sent to the browser. */
  readonly idToken?: string;
  /** An OIDC login: what the provider said about the user, for the audit log. */
  readonly email?: string;
  readonly displayName?: string;
  /** A token login: the SHA-256 of the token, so the session ends when the token is revoked or expires. */
  readonly tokenHash?: string;
}

/** A session held by the agent; the browser holds only its random id in a signed cookie. */
export interface Session extends SessionData {
  readonly id: string;
  /** The secret the CSRF tokens of this session derive from (read by @fastify/csrf-protection as `_csrf`). */
  readonly _csrf: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/**
 * The agent's browser sessions, in memory: bounded (the oldest go first when full) and expiring.
 * Sessions end when the agent restarts, by design: nothing about them is written to disk.
 */
export class SessionStore {
  readonly #map: ExpiringMap<Session>;
  readonly #now: () => number;

  constructor(o: { readonly max?: number; readonly now?: () => number } = {}) {
    this.#now = o.now ?? Date.now;
    this.#map = new ExpiringMap({ max: o.max ?? 10_000, now: this.#now });
  }

  /** Sessions held (expired ones not yet swept included). */
  get size(): number {
    return this.#map.size;
  }

  /** Opens a session lasting `ttlMs` (less when `notAfter` comes sooner, e.g. the token's own expiry). */
  create(data: SessionData, ttlMs: number, notAfter?: number): Session {
    const createdAt = this.#now();
    const expiresAt = Math.min(createdAt + ttlMs, notAfter ?? Number.POSITIVE_INFINITY);
    const session: Session = { ...data, id: randomId(), _csrf: randomId(), createdAt, expiresAt };
    this.#map.set(session.id, session, expiresAt);
    return session;
  }

  /** The live session with this id, or undefined (unknown or expired). */
  get(id: string): Session | undefined {
    return this.#map.get(id);
  }

  /** Ends a session; true when it existed. */
  delete(id: string): boolean {
    return this.#map.delete(id);
  }
}

/** 32 random bytes, base64url: unguessable ids and secrets. */
export function randomId(): string {
  return randomBytes(32).toString("base64url");
}
