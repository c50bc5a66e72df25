import { mapLimit } from "../../core/map-limit.ts";
import { refKey } from "../../core/objref.ts";
import type { ApplyOptions, ChangeSetEntry, DesiredObject } from "../provider.ts";
import { Health } from "../provider.ts";
import type { ApplyRun, ObjectOutcome } from "./apply-object.ts";
import { applyObject } from "./apply-object.ts";
import { definedKind, waitForCrds } from "./crd-established.ts";
import { entry } from "./failure.ts";
import { objectHealth } from "./health.ts";
import { LiveIndex, Locator } from "./live-objects.ts";
import { applyOrder, Phase } from "./order.ts";
import { stackSelector } from "./ownership.ts";
import type { SessionContext } from "./session-context.ts";

/**
 * Apply in order: CustomResourceDefinitions, then cluster-scoped kinds, then the rest, each phase
 * wave by wave, objects of a wave at once (bounded). Between the CRD phase and the next, the
 * CRDs are awaited until Established and discovery is read again, so their kinds resolve.
 * Every object ends as one entry, written by index in the input order.
 */

interface Item {
  readonly ref: DesiredObject["ref"];
  readonly object: DesiredObject["object"];
  readonly desired: DesiredObject;
  readonly index: number;
}

/** Applies a batch; throws only when the target cannot be reached before anything is done, or on cancellation. */
export async function applyObjects(ctx: SessionContext, desired: readonly DesiredObject[], opts: ApplyOptions): Promise<ChangeSetEntry[]> {
  const signal = opts.signal;
  // Unreachable or refusing before anything was written: the whole target failed, not its objects.
  await ctx.discovery.groups(signal);
  const results = new Array<ChangeSetEntry>(desired.length);
  let done = 0;
  const record = (index: number, e: ChangeSetEntry): void => {
    results[index] = e;
    done++;
    opts.onProgress?.(done, desired.length);
  };
  const items: Item[] = desired.map((d, index) => ({ ref: d.ref, object: d.object, desired: d, index }));
  const order = applyOrder(items);
  const placed = new Set(order.groups.flatMap((g) => g.objects.map((o) => o.index)));
  for (const item of items) {
    if (placed.has(item.index)) continue;
    const why = order.errors.find((e) => refKey(e.ref) === refKey(item.ref))?.message ?? "could not be ordered";
    record(item.index, entry(item.ref, item.desired.apiVersion, "failed", why));
  }
  const run: MutableRun = {
    ctx, locator: new Locator(ctx), live: new LiveIndex(ctx, stackSelector(opts.stack)), stack: opts.stack,
    force: opts.force, dryRun: opts.dryRun, ...(signal === undefined ? {} : { signal }),
    pendingKinds: new Map(), pendingNamespaces: namespacesToCreate(desired, opts.dryRun),
  };
  const crds: { item: Item; outcome: ObjectOutcome }[] = [];
  let crdsSettled = false;
  for (const group of order.groups) {
    if (group.phase !== Phase.Crds && !crdsSettled) {
      crdsSettled = true;
      await settleCrds(run, crds);
    }
    await mapLimit(group.objects, ctx.settings.concurrency, async (item) => {
      opts.beforeWrite?.();
      const outcome = await applyObject(run, item.desired);
      record(item.index, outcome.entry);
      if (group.phase === Phase.Crds) crds.push({ item, outcome });
    });
  }
  return results;
}

type MutableRun = Omit<ApplyRun, "locator" | "pendingKinds"> & { locator: Locator; pendingKinds: Map<string, string> };

/**
 * After the CRD phase: waits for the CRDs that are not Established yet, then reads discovery
 * again. A CRD not Established in time (or a dry run, which creates none) leaves its kind
 * pending, and its objects say why.
 */
async function settleCrds(run: MutableRun, crds: readonly { item: Item; outcome: ObjectOutcome }[]): Promise<void> {
  if (crds.length === 0) return;
  const kindOf = new Map(crds.flatMap(({ item }) => {
    const k = definedKind(item.object);
    return k === undefined ? [] : [[item.ref.name, k] as const];
  }));
  if (run.dryRun) {
    for (const { item, outcome } of crds) {
      const k = kindOf.get(item.ref.name);
      if (k !== undefined && outcome.entry.action === "created") run.pendingKinds.set(k, `its CustomResourceDefinition ${item.ref.name} is created by this apply`);
    }
    return;
  }
  const waiting = crds.filter(({ outcome }) => outcome.entry.action !== "failed" && (outcome.object === undefined || objectHealth(outcome.object).health !== Health.Healthy));
  const problems = await waitForCrds(run.ctx, waiting.map(({ item }) => item.ref), run.signal);
  for (const [name, why] of problems) {
    const k = kindOf.get(name);
    if (k !== undefined) run.pendingKinds.set(k, why);
  }
  // A CRD written just now may serve new kinds or versions the cached discovery does not know.
  if (waiting.length === 0 && !crds.some(({ outcome }) => outcome.entry.action === "created" || outcome.entry.action === "configured")) return;
  run.ctx.discovery.invalidate();
  run.locator = new Locator(run.ctx);
}

// In a dry run nothing is created, so objects in a Namespace of the same batch cannot be checked.
function namespacesToCreate(desired: readonly DesiredObject[], dryRun: boolean): ReadonlySet<string> {
  if (!dryRun) return new Set();
  return new Set(desired.filter((d) => d.ref.group === "" && d.ref.kind === "Namespace").map((d) => d.ref.name));
}
