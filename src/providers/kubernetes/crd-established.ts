import type { KObject } from "../../core/object.ts";
import { getPath } from "../../core/object.ts";
import { formatRef } from "../../core/objref.ts";
import type { ObjRef } from "../../core/objref.ts";
import { Health } from "../provider.ts";
import { objectHealth } from "./health.ts";
import { mapLimit } from "../../core/map-limit.ts";
import { isApiError } from "./errors.ts";
import { pollUntil } from "./poll.ts";
import type { SessionContext } from "./session-context.ts";

const crdLocation = { group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions", kind: "CustomResourceDefinition" } as const;

/** Why CustomResourceDefinitions are not usable yet, by CRD name; empty when all are Established. */
export type CrdWaitResult = ReadonlyMap<string, string>;

/**
 * Waits, polling with backoff up to the session's CRD timeout, until the CRDs are Established
 * (or their names were refused, which no wait fixes). Returns why each one that is not usable
 * is not, so the objects of its kinds can say so.
 */
export async function waitForCrds(ctx: SessionContext, refs: readonly ObjRef[], signal?: AbortSignal): Promise<CrdWaitResult> {
  if (refs.length === 0) return new Map();
  const probeOne = async (ref: ObjRef): Promise<{ name: string; settled: boolean; why?: string }> => {
    try {
      const live = await ctx.client.get({ ...crdLocation, name: ref.name }, signal);
      const h = objectHealth(live);
      if (h.health === Health.Healthy) return { name: ref.name, settled: true };
      return { name: ref.name, settled: h.health === Health.Degraded, why: `${formatRef(ref)} is not Established: ${h.message}` };
    } catch (err: unknown) {
      if (signal?.aborted === true) throw err;
      const why = isApiError(err, "NotFound") ? `${formatRef(ref)} does not exist` : `${formatRef(ref)}: ${err instanceof Error ? err.message : String(err)}`;
      return { name: ref.name, settled: false, why };
    }
  };
  const polled = await pollUntil(
    async () => {
      const states = await mapLimit(refs, ctx.settings.concurrency, probeOne);
      return { done: states.every((s) => s.settled), value: states };
    },
    { clock: ctx.clock, minDelayMs: ctx.settings.pollMinMs, maxDelayMs: 2_000, timeoutMs: ctx.settings.crdEstablishTimeoutMs, ...(signal === undefined ? {} : { signal }) },
  );
  const out = new Map<string, string>();
  for (const s of polled.value) if (s.why !== undefined) out.set(s.name, polled.timedOut ? `${s.why} (waited ${ctx.settings.crdEstablishTimeoutMs / 1000}s)` : s.why);
  return out;
}

/** The `group/Kind` a CustomResourceDefinition object defines, if it says. */
export function definedKind(crd: KObject): string | undefined {
  const group = getPath(crd, ["spec", "group"]);
  const kind = getPath(crd, ["spec", "names", "kind"]);
  return typeof group === "string" && typeof kind === "string" ? `${group}/${kind}` : undefined;
}
