import type { Clock } from "../../core/clock.ts";
import type { KubeClient } from "./client.ts";
import type { Discovery } from "./discovery.ts";

/**
 * What every verb of a {@link KubernetesSession} works with: the client, the discovery cache
 * and the session's settings. One per open session; the verbs keep no state of their own.
 */
export interface SessionContext {
  readonly client: KubeClient;
  readonly discovery: Discovery;
  readonly settings: SessionSettings;
  readonly clock: Clock;
}

/** Tuning of a session; see {@link defaultSessionSettings}. */
export interface SessionSettings {
  /** The field manager of every apply. */
  readonly fieldManager: string;
  /** Where inventories live. */
  readonly inventoryNamespace: string;
  /** Objects worked on at once inside a wave (the client bounds requests in flight on its own). */
  readonly concurrency: number;
  /** How long an apply waits for the CustomResourceDefinitions it applied to be Established. */
  readonly crdEstablishTimeoutMs: number;
  /** First and longest pause between health polls. */
  readonly pollMinMs: number;
  readonly pollMaxMs: number;
}

/** Field manager `gitward`, inventories in `gitward-system`, 16 objects at once, CRDs Established within 60 s, polls every 100 ms to 5 s. */
export function defaultSessionSettings(): SessionSettings {
  return {
    fieldManager: "gitward",
    inventoryNamespace: "gitward-system",
    concurrency: 16,
    crdEstablishTimeoutMs: 60_000,
    pollMinMs: 100,
    pollMaxMs: 5_000,
  };
}
