import { createHash } from "node:crypto";
import type { AuditEvent, AuditVerification } from "./store.ts";

/**
 * The audit chain, as pure functions shared by every Store implementation and by
 * `gitward audit verify`: the canonical form of an event, its hash, and the checks that link
 * one event to the previous one.
 */

/** The `prevHash` of the first event: 64 zeros. */
export const genesisHash = "0".repeat(64);

/**
 * Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, properties whose value
 * is undefined left out, strings and numbers as `JSON.stringify` writes them. For the values JSON
 * can hold this is the RFC 8785 (JCS) form, so another language can recompute a hash.
 * Throws on what JSON cannot hold faithfully: non-finite numbers, bigints, functions, symbols,
 * undefined in an array, and objects other than plain objects and arrays.
 */
export function canonicalJson(value: unknown): string {
  return write(value, "$");
}

function write(value: unknown, path: string): string {
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`${path}: ${value} cannot be written as JSON`);
      return JSON.stringify(value);
    case "object": {
      if (value === null) return "null";
      if (Array.isArray(value)) return `[${value.map((v, i) => write(v, `${path}[${i}]`)).join(",")}]`;
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) {
        throw new TypeError(`${path}: only plain objects can be written as JSON, not ${describe(value)}`);
      }
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${write(v, `${path}.${k}`)}`).join(",")}}`;
    }
    default:
      throw new TypeError(`${path}: a ${typeof value} cannot be written as JSON`);
  }
}

function describe(value: object): string {
  const name = (value.constructor as { name?: unknown } | undefined)?.name;
  return typeof name === "string" && name !== "" ? `a ${name}` : "an object with a prototype";
}

/** An event without its own hash: what the hash is computed over. */
export type UnhashedAuditEvent = Omit<AuditEvent, "hash">;

/** SHA-256, lower-case hex, of the canonical JSON of every field but `hash` (including `prevHash`). */
export function auditHash(event: UnhashedAuditEvent): string {
  const { seq, at, kind, actor, environment, stack, revision, details, prevHash } = event;
  const body = canonicalJson({ seq, at, kind, actor, environment, stack, revision, details, prevHash });
  return createHash("sha256").update(body, "utf8").digest("hex");
}

/** The link an event must follow: the previous event's seq and hash, or none for the first. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/** Why `event` does not follow `previous` in an intact chain, or undefined when it does. */
export function chainBreak(previous: ChainHead | undefined, event: AuditEvent): string | undefined {
  const expectedSeq = previous === undefined ? 1 : previous.seq + 1;
  if (event.seq !== expectedSeq) {
    return previous === undefined
      ? `the chain starts at seq ${event.seq}, not 1: events were removed`
      : `seq ${event.seq} follows seq ${previous.seq}: events were removed or reordered`;
  }
  const expectedPrev = previous === undefined ? genesisHash : previous.hash;
  if (event.prevHash !== expectedPrev) {
    return previous === undefined
      ? "the first event's prevHash is not the genesis hash"
      : `prevHash is not the hash of seq ${previous.seq}: the chain was replaced or reordered`;
  }
  if (auditHash(event) !== event.hash) return "the hash does not match the event's content: it was edited";
  return undefined;
}

/** Verifies a whole chain, oldest first; stops at the first break. */
export function verifyAuditChain(events: Iterable<AuditEvent>): AuditVerification {
  const chain = new ChainVerifier();
  for (const event of events) {
    const broken = chain.next(event.seq, () => event);
    if (broken !== undefined) return broken;
  }
  return chain.result();
}

/**
 * Verifies a chain fed one stored row at a time, oldest first, as the stores read them (in pages
 * or by iterator): each row is read into an event by `read`, whose failure is a break too.
 */
export class ChainVerifier {
  #previous: ChainHead | undefined;
  #count = 0;

  /** Checks the next row (at `seq`); the failed verification when it breaks the chain, else undefined. */
  next(seq: number, read: () => AuditEvent): AuditVerification | undefined {
    let event: AuditEvent;
    try {
      event = read();
    } catch (e: unknown) {
      return { ok: false, count: this.#count, seq, reason: `the row cannot be read: ${e instanceof Error ? e.message : String(e)}` };
    }
    const reason = chainBreak(this.#previous, event);
    if (reason !== undefined) return { ok: false, count: this.#count, seq: event.seq, reason };
    this.#previous = { seq: event.seq, hash: event.hash };
    this.#count++;
    return undefined;
  }

  /** The verification of every row checked so far, which all held. */
  result(): AuditVerification {
    return { ok: true, count: this.#count, head: this.#previous?.hash ?? genesisHash };
  }
}
