import type { Cluster } from "./cluster.ts";
import { badRequest, methodNotAllowed, notFound, staleConflict } from "./errors.ts";
import { updateManagerName } from "./managed-fields.ts";
import { jsonMergePatch, jsonPatch } from "./patch-types.ts";
import type { Answer, ResourceRequest } from "./resource-request.ts";
import { decodeJsonBody, isDryRun } from "./resource-request.ts";
import { metadataOf } from "./store.ts";
import type { JsonObject } from "./values.ts";
import { ensureObject, isObject, objectAt, stringAt } from "./values.ts";
import { commit, withoutManagedFields } from "./write-pipeline.ts";

/**
 * The scale subresource (`kubectl scale`, the HorizontalPodAutoscaler): an autoscaling/v1 Scale
 * view of `spec.replicas`. A write is an Update of the parent's `spec.replicas` by the writer,
 * recorded on the parent with `subresource: "scale"` (and, as on the recorded server, no time):
 * the writer takes the field from whoever held it (08-normalization/32, 33).
 */
export function serveScale(cluster: Cluster, verb: string, req: ResourceRequest): Answer {
  const live = cluster.get(req.r, req.namespace, req.name);
  if (live === undefined) throw notFound(req.r, req.name);
  if (verb === "get") return { status: 200, body: scaleOf(live) };
  if (verb !== "update" && verb !== "patch") throw methodNotAllowed();
  const current = scaleOf(live);
  const wanted = verb === "update" ? decodeJsonBody(req) : patchedScale(req, current);
  const rv = stringAt(objectAt(wanted, "metadata"), "resourceVersion");
  if (rv !== undefined && rv !== "" && rv !== metadataOf(live)["resourceVersion"]) throw staleConflict(req.r, req.name);
  const replicas = objectAt(wanted, "spec")?.["replicas"];
  if (typeof replicas !== "number" || !Number.isInteger(replicas)) throw badRequest("Scale.spec.replicas: expected an integer");
  const next = withoutManagedFields(live);
  ensureObject(next, ["spec"])["replicas"] = replicas;
  const manager = updateManagerName(req.query.get("fieldManager"), req.userAgent);
  const result = commit(cluster, { r: req.r, namespace: req.namespace, name: req.name, subresource: "scale", live, next, ownership: { op: "update", manager }, dryRun: isDryRun(req) });
  return { status: 200, body: scaleOf(result.object) };
}

function patchedScale(req: ResourceRequest, current: JsonObject): JsonObject {
  let patch: unknown;
  try {
    patch = JSON.parse(req.body);
  } catch (err: unknown) {
    throw badRequest(`error decoding patch: ${err instanceof Error ? err.message : String(err)}`);
  }
  const type = req.contentType.split(";")[0]?.trim().toLowerCase() ?? "";
  // A Scale has no lists, so a strategic merge patch merges as a JSON merge patch.
  const out = type === "application/json-patch+json" ? jsonPatch(current, patch) : jsonMergePatch(current, patch);
  if (!isObject(out)) throw badRequest("the patch did not produce an object");
  return out;
}

/** The Scale of an object: its replicas, its status replicas and its selector as text. */
function scaleOf(obj: JsonObject): JsonObject {
  const meta = metadataOf(obj);
  const spec = objectAt(obj, "spec") ?? {};
  const status = objectAt(obj, "status") ?? {};
  const keep = ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"];
  return {
    kind: "Scale",
    apiVersion: "autoscaling/v1",
    metadata: Object.fromEntries(keep.filter((k) => meta[k] !== undefined).map((k) => [k, meta[k]])),
    spec: { replicas: typeof spec["replicas"] === "number" ? spec["replicas"] : 1 },
    status: { replicas: typeof status["replicas"] === "number" ? status["replicas"] : 0, selector: selectorText(spec["selector"]) },
  };
}

// metav1.FormatLabelSelector: requirements sorted by key, `k=v`, `k in (a,b)`, `k notin (a)`, `k`, `!k`.
function selectorText(selector: unknown): string {
  if (!isObject(selector)) return "";
  const parts: { key: string; text: string }[] = [];
  for (const [k, v] of Object.entries(objectAt(selector, "matchLabels") ?? {})) parts.push({ key: k, text: `${k}=${String(v)}` });
  const expressions = selector["matchExpressions"];
  for (const e of Array.isArray(expressions) ? expressions.filter(isObject) : []) {
    const key = String(e["key"]);
    const values = Array.isArray(e["values"]) ? e["values"].map(String).sort() : [];
    const op = String(e["operator"]);
    const text = op === "In" ? `${key} in (${values.join(",")})` : op === "NotIn" ? `${key} notin (${values.join(",")})` : op === "Exists" ? key : `!${key}`;
    parts.push({ key, text });
  }
  parts.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return parts.length === 0 ? "<none>" : parts.map((p) => p.text).join(",");
}
