import type { Finding } from "../check/finding.ts";
import type { Exemption } from "../policy/index.ts";
import type { StackInstance } from "../config/stack-instances.ts";
import type { RenderedObject } from "../core/object.ts";
import { getPath, isRecord, type KObject } from "../core/object.ts";
import { encryptedLeaves } from "../core/sops-values.ts";
import { formatFieldPath } from "../core/yaml-positions.ts";
import { compareRefs, refKey } from "../core/objref.ts";
import type { RenderResult } from "../render/renderer.ts";
import type { Commit } from "../source/types.ts";
import {
  addCounts, countChange, emptyCounts,
  type Change, type ChangeCounts, type EnvironmentPlan, type Plan, type RevisionInfo, type StackPlan,
} from "./change.ts";
import { diffObjects, objectYaml, sameObject } from "./object-diff.ts";

/** One side of a plan: a revision and what it rendered. */
export interface PlanSide {
  readonly rev: string;
  readonly commit: Commit;
  readonly renders: readonly RenderResult[];
}

/** The annotation that keeps an object when Git no longer has it. */
export const pruneAnnotation = "gitward.dev/prune";

interface Placed {
  readonly instance: StackInstance;
  readonly obj: RenderedObject;
}

/**
 * The offline Plan: compares what head renders with what base rendered, per environment
 * and target, and yields a change per object. Objects are matched by identity within an
 * environment's target, so an object moved between stacks is an update, not a delete and create.
 */
export function computePlan(
  base: PlanSide | undefined,
  head: PlanSide,
  findings: readonly Finding[],
  exemptions: readonly Exemption[],
  /** Whether an environment prunes (its sync.prune at head); deletes become orphans where not. */
  prunes: (environment: string) => boolean,
): Plan {
  const before = index(base?.renders ?? []);
  const after = index(head.renders);
  const stacks = new Map<string, { instance: StackInstance; changes: Change[]; counts: ChangeCounts }>();
  const stackFor = (inst: StackInstance): { changes: Change[]; counts: ChangeCounts } => {
    const key = `${inst.environment}\u0000${inst.stack}`;
    let s = stacks.get(key);
    if (s === undefined) stacks.set(key, (s = { instance: inst, changes: [], counts: emptyCounts() }));
    return s;
  };
  for (const r of head.renders) if (r.ok) stackFor(r.instance);
  for (const [key, now] of after) {
    const was = before.get(key);
    const change = was === undefined ? created(now) : updated(was, now);
    const s = stackFor(now.instance);
    countChange(s.counts, change.action);
    if (change.action !== "no-op") s.changes.push(change);
  }
  for (const [key, was] of before) {
    if (after.has(key)) continue;
    const change = removed(was, prunes(was.instance.environment));
    const s = stackFor(was.instance);
    countChange(s.counts, change.action);
    s.changes.push(change);
  }
  return { ...assemble(base, head, [...stacks.values()], findings), exemptions };
}

function index(renders: readonly RenderResult[]): Map<string, Placed> {
  const out = new Map<string, Placed>();
  for (const r of renders) {
    if (!r.ok) continue;
    for (const obj of r.objects) {
      out.set(`${r.instance.environment}\u0000${r.instance.targetName}\u0000${refKey(obj.ref)}`, { instance: r.instance, obj });
    }
  }
  return out;
}

function created(now: Placed): Change {
  return { action: "create", ref: now.obj.ref, apiVersion: now.obj.apiVersion, source: now.obj.source, yaml: objectYaml(now.obj.object, sopsFileFields(now.obj)) };
}

/** A host File whose source is a SOPS file holds it, encrypted, as its content: shown masked, like a secret. */
function sopsFileFields(obj: RenderedObject): readonly string[] | undefined {
  return obj.sopsFile === undefined ? undefined : ["spec.content"];
}

function updated(was: Placed, now: Placed): Change {
  const moved = was.instance.stack === now.instance.stack ? {} : { previousStack: was.instance.stack };
  const base = { ref: now.obj.ref, apiVersion: now.obj.apiVersion, source: now.obj.source, ...moved };
  if (sameObject(was.obj.object, now.obj.object)) return { action: moved.previousStack === undefined ? "no-op" : "update", ...base };
  const fields = sopsFileFields(now.obj) ?? sopsFileFields(was.obj);
  const secret = fields === undefined ? secretChange(was.obj.object, now.obj.object) : sourceChange(was.obj.object, now.obj.object);
  return { action: "update", ...base, diff: diffObjects(was.obj.object, now.obj.object, fields), ...(secret === undefined ? {} : { secret }) };
}

/** {@link secretChange} for a SOPS source file: the same ENC[...] values in the same order under other metadata is a re-encryption. */
function sourceChange(was: KObject, now: KObject): Change["secret"] {
  const content = (o: KObject): string => {
    const c = getPath(o, ["spec", "content"]);
    return typeof c === "string" ? c : "";
  };
  const values = (o: KObject): string => (content(o).match(/ENC\[[A-Z0-9_]+,data:[^\]\n]*\]/g) ?? []).join("\n");
  if (content(was) === content(now)) return undefined;
  return values(was) === values(now) ? "re-encrypted" : "changed";
}

/**
 * How an update touches SOPS-encrypted values, told without any key: a changed ciphertext is a
 * changed secret (a rotated data key too: only the key could tell them apart); the same values
 * under other metadata are a re-encryption (recipients added or removed).
 */
function secretChange(was: KObject, now: KObject): Change["secret"] {
  const before = isRecord(was["sops"]) ? encryptedValues(was) : undefined;
  const after = isRecord(now["sops"]) ? encryptedValues(now) : undefined;
  if (before === undefined && after === undefined) return undefined;
  if (before === undefined || after === undefined) return "changed";
  if (before.size !== after.size || [...after].some(([k, v]) => before.get(k) !== v)) return "changed";
  const { sops: _a, ...restWas } = was;
  const { sops: _b, ...restNow } = now;
  return sameObject(restWas, restNow) ? "re-encrypted" : undefined;
}

function encryptedValues(obj: KObject): Map<string, string> {
  return new Map(encryptedLeaves(obj).map((l) => [formatFieldPath(l.path), l.value]));
}

function removed(was: Placed, envPrunes: boolean): Change {
  const prune = envPrunes && getPath(was.obj.object, ["metadata", "annotations", pruneAnnotation]) !== "disabled";
  return { action: prune ? "delete" : "orphan", ref: was.obj.ref, apiVersion: was.obj.apiVersion, source: was.obj.source };
}

function assemble(
  base: PlanSide | undefined,
  head: PlanSide,
  stacks: { instance: StackInstance; changes: Change[]; counts: ChangeCounts }[],
  findings: readonly Finding[],
): Omit<Plan, "exemptions"> {
  const envs = new Map<string, StackPlan[]>();
  for (const s of stacks) {
    const list = envs.get(s.instance.environment) ?? [];
    const order = { create: 0, update: 1, orphan: 2, delete: 3, "no-op": 4 } as const;
    s.changes.sort((a, b) => order[a.action] - order[b.action] || compareRefs(a.ref, b.ref));
    list.push({
      stack: s.instance.stack, target: s.instance.targetName, provider: s.instance.target.provider,
      dir: s.instance.dir, changes: s.changes, counts: s.counts,
    });
    envs.set(s.instance.environment, list);
  }
  const total = emptyCounts();
  const environments: EnvironmentPlan[] = [...envs].map(([environment, list]) => {
    const counts = emptyCounts();
    for (const s of list) addCounts(counts, s.counts);
    addCounts(total, counts);
    return { environment, stacks: list.sort((a, b) => a.stack.localeCompare(b.stack)), counts };
  });
  return { base: base === undefined ? undefined : info(base), head: info(head), environments, findings, counts: total };
}

function info(side: PlanSide): RevisionInfo {
  return { rev: side.rev, sha: side.commit.sha, author: side.commit.author.name, subject: side.commit.subject };
}
