import type { Cluster } from "./cluster.ts";
import { ApiError, notFound } from "./errors.ts";
import type { ContinueToken } from "./pagination.ts";
import { decodeContinue, paginate } from "./pagination.ts";
import { renderList, renderObject } from "./render.ts";
import type { Answer, ResourceRequest } from "./resource-request.ts";
import type { FieldSelector, Selector } from "./selectors.ts";
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from "./selectors.ts";
import { metadataOf } from "./store.ts";
import type { JsonObject } from "./values.ts";
import { isObject } from "./values.ts";

/** GET of one object (or of its status subresource, which answers the whole object). */
export function getObject(cluster: Cluster, req: ResourceRequest): Answer {
  const obj = cluster.get(req.r, req.namespace, req.name);
  if (obj === undefined) throw notFound(req.r, req.name);
  return { status: 200, body: renderObject(req.r, obj) };
}

/** The label and field selectors of a list or watch request (400 when unparsable). */
export interface ListFilter {
  readonly labels: Selector;
  readonly fields: FieldSelector;
}

/** Parses `labelSelector` and `fieldSelector`. */
export function listFilter(query: URLSearchParams): ListFilter {
  return { labels: parseLabelSelector(query.get("labelSelector") ?? ""), fields: parseFieldSelector(query.get("fieldSelector") ?? "") };
}

/** True when an object passes the filter. */
export function matchesFilter(filter: ListFilter, obj: JsonObject): boolean {
  const labels = metadataOf(obj)["labels"];
  return matchesLabels(filter.labels, isObject(labels) ? labels : {}) && matchesFields(filter.fields, obj);
}

/** The objects a collection request covers, filtered, in storage-key order. */
export function selectObjects(cluster: Cluster, req: ResourceRequest, filter: ListFilter): JsonObject[] {
  return cluster.store.list(req.r.storage, req.r.namespaced ? req.namespace : undefined).filter((o) => matchesFilter(filter, o));
}

// A list at an exact resourceVersion is served from history, or is 410 Expired once compacted.
function selectAt(cluster: Cluster, req: ResourceRequest, filter: ListFilter, resourceVersion: number): JsonObject[] {
  const objects = cluster.store.listAt(req.r.storage, resourceVersion, req.r.namespaced ? req.namespace : undefined);
  if (objects === undefined) {
    throw new ApiError({ code: 410, reason: "Expired", message: `too old resource version: ${resourceVersion} (${cluster.store.currentResourceVersion()})` });
  }
  return objects.filter((o) => matchesFilter(filter, o));
}

/** LIST with selectors, `limit` and `continue`, shaped as the API server answers lists. */
export function listObjects(cluster: Cluster, req: ResourceRequest): Answer {
  const filter = listFilter(req.query);
  const continueParam = req.query.get("continue");
  const token: ContinueToken | undefined = continueParam === null || continueParam === "" ? undefined : decodeContinue(continueParam);
  const limitParam = Number(req.query.get("limit") ?? "");
  const acrossNamespaces = req.r.namespaced && req.namespace === "";
  const exact = req.query.get("resourceVersionMatch") === "Exact" ? Number(req.query.get("resourceVersion")) : undefined;
  const selected = exact === undefined || Number.isNaN(exact) ? selectObjects(cluster, req, filter) : selectAt(cluster, req, filter, exact);
  const objects = selected.map((item) => {
    const meta = metadataOf(item);
    return { key: acrossNamespaces ? `${String(meta["namespace"])}/${String(meta["name"])}` : String(meta["name"]), item };
  });
  const resourceVersion = token?.resourceVersion ?? exact ?? cluster.store.currentResourceVersion();
  const page = paginate(objects, {
    limit: Number.isInteger(limitParam) && limitParam > 0 ? limitParam : undefined,
    token,
    resourceVersion,
    filtered: filter.labels.length > 0 || filter.fields.length > 0,
  });
  const body = renderList(req.r, page.items, {
    resourceVersion: String(resourceVersion),
    continueToken: page.continueToken,
    remainingItemCount: page.remainingItemCount,
  });
  return { status: 200, body };
}
