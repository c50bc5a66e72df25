import { celEnv, celFunc, celList, celMap, CelScalar, isCelList, isCelMap, listType, mapType } from "@bufbuild/cel";
import type { CelEnv, CelList, CelMap, CelValue } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";

/** Names of the variables every policy expression sees. */
export const PolicyVariable = { Object: "object", Env: "env", Stack: "stack", Params: "params" } as const;

/**
 * The CEL environment policies compile and run in: the standard library, the `strings`
 * extension and gitward's helpers for workloads. Created once per policy set.
 */
export function policyCelEnv(): CelEnv {
  return celEnv({ funcs: [...strings, ...gitwardFuncs()] });
}

const EMPTY_MAP: CelMap = celMap(new Map());

function gitwardFuncs() {
  return [
    celFunc("gitward.podSpec", [CelScalar.DYN], mapType(CelScalar.STRING, CelScalar.DYN), (obj) => podSpecOf(obj) ?? EMPTY_MAP),
    celFunc("gitward.containers", [CelScalar.DYN], listType(CelScalar.DYN), (obj) => containersOf(obj)),
  ];
}

/** Where each workload kind keeps its pod spec, by `group/Kind`. */
const podSpecPaths: ReadonlyMap<string, readonly string[]> = new Map([
  ["/Pod", ["spec"]],
  ["/PodTemplate", ["template", "spec"]],
  ["/ReplicationController", ["spec", "template", "spec"]],
  ["apps/Deployment", ["spec", "template", "spec"]],
  ["apps/StatefulSet", ["spec", "template", "spec"]],
  ["apps/DaemonSet", ["spec", "template", "spec"]],
  ["apps/ReplicaSet", ["spec", "template", "spec"]],
  ["batch/Job", ["spec", "template", "spec"]],
  ["batch/CronJob", ["spec", "jobTemplate", "spec", "template", "spec"]],
]);

/** The workload kinds whose pod spec {@link podSpecOf} finds, as `[group, kind]`. */
export function workloadKinds(): readonly (readonly [string, string])[] {
  return [...podSpecPaths.keys()].map((k) => {
    const slash = k.indexOf("/");
    return [k.slice(0, slash), k.slice(slash + 1)] as const;
  });
}

function podSpecOf(obj: CelValue): CelMap | undefined {
  if (!isCelMap(obj)) return undefined;
  const apiVersion = obj.get("apiVersion");
  const kind = obj.get("kind");
  if (typeof apiVersion !== "string" || typeof kind !== "string") return undefined;
  const slash = apiVersion.indexOf("/");
  const group = slash < 0 ? "" : apiVersion.slice(0, slash);
  const path = podSpecPaths.get(`${group}/${kind}`);
  if (path === undefined) return undefined;
  let cur: CelValue | undefined = obj;
  for (const key of path) {
    if (!isCelMap(cur)) return undefined;
    cur = cur.get(key);
  }
  return isCelMap(cur) ? cur : undefined;
}

function containersOf(obj: CelValue): CelList {
  const spec = podSpecOf(obj);
  if (spec === undefined) return celList([]);
  const out: CelValue[] = [];
  for (const field of ["initContainers", "containers", "ephemeralContainers"]) {
    const list = spec.get(field);
    if (!isCelList(list)) continue;
    for (const c of list) if (isCelMap(c)) out.push(c);
  }
  return celList(out);
}
