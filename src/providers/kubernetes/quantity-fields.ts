import type { JsonValue, KObject } from "../../core/object.ts";
import { isRecord } from "../../core/object.ts";
import { splitApiVersion } from "../../core/objref.ts";
import { storedQuantity } from "./quantity.ts";

/**
 * Where the built-in kinds hold quantities (`resource.Quantity` in their Go types), so that the
 * values written there can be put in the form the API server stores ({@link storedQuantity}).
 * Only these paths are touched: the same text elsewhere (a ConfigMap's `cpu: "1000m"`) is data
 * the server keeps as sent. Custom resources are never touched: the server stores them as sent.
 */

/** A path to quantities: field names, `*` for every value of a map, `[]` for every item of a list. */
type Pattern = readonly string[];

const resourceLists = (prefix: Pattern): Pattern[] => [
  [...prefix, "limits", "*"],
  [...prefix, "requests", "*"],
];

// Quantities of a PodSpec, relative to it.
const podSpec: Pattern[] = [
  ...["containers", "initContainers", "ephemeralContainers"].flatMap((list) => resourceLists([list, "[]", "resources"])),
  ["overhead", "*"],
  ["volumes", "[]", "emptyDir", "sizeLimit"],
  ...resourceLists(["volumes", "[]", "ephemeral", "volumeClaimTemplate", "spec", "resources"]),
];
const under = (prefix: Pattern, patterns: readonly Pattern[]): Pattern[] => patterns.map((p) => [...prefix, ...p]);
const template = under(["spec", "template", "spec"], podSpec);

// HorizontalPodAutoscaler targets: autoscaling/v2 and v2beta2 (target.value / averageValue), v2beta1 (targetValue, ...).
const hpaTargets: Pattern[] = [
  ...["object", "pods", "resource", "containerResource", "external"].flatMap((source): Pattern[] => [
    ["spec", "metrics", "[]", source, "target", "value"],
    ["spec", "metrics", "[]", source, "target", "averageValue"],
    ["spec", "metrics", "[]", source, "targetValue"],
    ["spec", "metrics", "[]", source, "targetAverageValue"],
    ["spec", "metrics", "[]", source, "averageValue"],
  ]),
];

/** Quantity paths by `group/Kind`. */
const quantityPaths: ReadonlyMap<string, readonly Pattern[]> = new Map<string, Pattern[]>([
  ["/Pod", under(["spec"], podSpec)],
  ["/PodTemplate", under(["template", "spec"], podSpec)],
  ["/ReplicationController", template],
  ["apps/Deployment", template],
  ["apps/ReplicaSet", template],
  ["apps/DaemonSet", template],
  ["apps/StatefulSet", [...template, ...resourceLists(["spec", "volumeClaimTemplates", "[]", "spec", "resources"])]],
  ["batch/Job", template],
  ["batch/CronJob", under(["spec", "jobTemplate", "spec", "template", "spec"], podSpec)],
  ["/PersistentVolumeClaim", resourceLists(["spec", "resources"])],
  ["/PersistentVolume", [["spec", "capacity", "*"]]],
  ["/ResourceQuota", [["spec", "hard", "*"]]],
  ["/LimitRange", ["max", "min", "default", "defaultRequest", "maxLimitRequestRatio"].map((k) => ["spec", "limits", "[]", k, "*"])],
  ["node.k8s.io/RuntimeClass", [["overhead", "podFixed", "*"]]],
  ["storage.k8s.io/CSIStorageCapacity", [["capacity"], ["maximumVolumeSize"]]],
  ["autoscaling/HorizontalPodAutoscaler", hpaTargets],
]);

/**
 * The object with every value in a quantity field of its kind in the form the API server
 * stores (`cpu: 1000m` → `cpu: "1"`, `memory: 1024Mi` → `"1Gi"`, `cpu: 0.5` → `"500m"`).
 * Values that are not quantities are left for the server to reject. Returns the same object
 * when nothing changes.
 */
export function storedQuantities(obj: KObject): KObject {
  const apiVersion = obj["apiVersion"];
  const kind = obj["kind"];
  if (typeof apiVersion !== "string" || typeof kind !== "string") return obj;
  const patterns = quantityPaths.get(`${splitApiVersion(apiVersion).group}/${kind}`);
  if (patterns === undefined) return obj;
  let out: JsonValue = obj;
  for (const p of patterns) out = rewrite(out, p, 0);
  return out as KObject;
}

// Copy on write: a branch is copied only when a value under it changes.
function rewrite(value: JsonValue, pattern: Pattern, depth: number): JsonValue {
  if (depth === pattern.length) {
    const stored = storedQuantity(value);
    return stored === undefined ? value : stored;
  }
  const step = pattern[depth] as string;
  if (step === "[]") {
    if (!Array.isArray(value)) return value;
    let copy: JsonValue[] | undefined;
    value.forEach((item, i) => {
      const next = rewrite(item, pattern, depth + 1);
      if (next !== item) (copy ??= [...value])[i] = next;
    });
    return copy ?? value;
  }
  if (!isRecord(value)) return value;
  const keys = step === "*" ? Object.keys(value) : Object.hasOwn(value, step) ? [step] : [];
  let copy: { [key: string]: JsonValue } | undefined;
  for (const key of keys) {
    const child = value[key] as JsonValue;
    const next = rewrite(child, pattern, depth + 1);
    if (next !== child) (copy ??= { ...value })[key] = next;
  }
  return copy ?? value;
}
