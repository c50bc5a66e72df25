import type { Cluster } from "./cluster.ts";
import { ApiError, PageNotFound, methodNotAllowed, resourceNotFound } from "./errors.ts";
import { deleteCollection, deleteObject } from "./handlers-delete.ts";
import { getObject, listObjects } from "./handlers-read.ts";
import { createObject, patchObject, updateObject } from "./handlers-write.ts";
import { readBody, sendJson, sendPageNotFound, sendStatus } from "./http.ts";
import type { Answer, ResourceRequest } from "./resource-request.ts";
import type { ResourceType } from "./resources.ts";
import type { Route, RouteContext } from "./router.ts";
import { serveScale } from "./scale.ts";
import type { WatchHub } from "./watch.ts";

// The Warning headers of deprecated group versions this build serves.
const deprecations: Readonly<Record<string, string>> = {
  "policy/v1beta1/poddisruptionbudgets": "policy/v1beta1 PodDisruptionBudget is deprecated in v1.21+, unavailable in v1.25+; use policy/v1 PodDisruptionBudget",
  "policy/v1beta1/podsecuritypolicies": "policy/v1beta1 PodSecurityPolicy is deprecated in v1.21+, unavailable in v1.25+",
  "batch/v1beta1/cronjobs": "batch/v1beta1 CronJob is deprecated in v1.21+, unavailable in v1.25+; use batch/v1 CronJob",
  "autoscaling/v2beta1/horizontalpodautoscalers": "autoscaling/v2beta1 HorizontalPodAutoscaler is deprecated in v1.22+, unavailable in v1.25+; use autoscaling/v2 HorizontalPodAutoscaler",
  "autoscaling/v2beta2/horizontalpodautoscalers": "autoscaling/v2beta2 HorizontalPodAutoscaler is deprecated in v1.23+, unavailable in v1.26+; use autoscaling/v2 HorizontalPodAutoscaler",
  "discovery.k8s.io/v1beta1/endpointslices": "discovery.k8s.io/v1beta1 EndpointSlice is deprecated in v1.21+, unavailable in v1.25+; use discovery.k8s.io/v1 EndpointSlice",
  "events.k8s.io/v1beta1/events": "events.k8s.io/v1beta1 Event is deprecated in v1.22+, unavailable in v1.25+; use events.k8s.io/v1 Event",
  "node.k8s.io/v1beta1/runtimeclasses": "node.k8s.io/v1beta1 RuntimeClass is deprecated in v1.22+, unavailable in v1.25+; use node.k8s.io/v1 RuntimeClass",
  "storage.k8s.io/v1beta1/csistoragecapacities": "storage.k8s.io/v1beta1 CSIStorageCapacity is deprecated in v1.24+, unavailable in v1.27+; use storage.k8s.io/v1 CSIStorageCapacity",
  "flowcontrol.apiserver.k8s.io/v1beta1/flowschemas": "flowcontrol.apiserver.k8s.io/v1beta1 FlowSchema is deprecated in v1.23+, unavailable in v1.26+; use flowcontrol.apiserver.k8s.io/v1beta2 FlowSchema",
  "flowcontrol.apiserver.k8s.io/v1beta1/prioritylevelconfigurations":
    "flowcontrol.apiserver.k8s.io/v1beta1 PriorityLevelConfiguration is deprecated in v1.23+, unavailable in v1.26+; use flowcontrol.apiserver.k8s.io/v1beta2 PriorityLevelConfiguration",
};

/** The routes of every resource URL: /api/v1/... and /apis/<group>/<version>/... below the group version. */
export function resourceRoutes(cluster: Cluster, watches: WatchHub): Route[] {
  const path = /^\/(?:api\/[^/]+|apis\/[^/]+\/[^/]+)\/.+$/;
  const handle = (ctx: RouteContext) => serveResource(cluster, watches, ctx);
  return ["GET", "POST", "PUT", "PATCH", "DELETE"].map((method) => ({ method, path, handle }));
}

async function serveResource(cluster: Cluster, watches: WatchHub, ctx: RouteContext): Promise<void> {
  const { info } = ctx;
  if (!info.isResource) return sendPageNotFound(ctx.res, ctx.user);
  const found = cluster.registry.lookup(info.group, info.version, info.resource);
  const warning = typeof found === "string" ? undefined : deprecations[`${info.group}/${info.version}/${info.resource}`];
  const reply = { user: ctx.user, ...(warning === undefined ? {} : { headers: { warning: `299 - "${warning}"` } }) };
  try {
    const r = resolve(cluster, found, info.group);
    const req = await request(ctx, r);
    if (info.verb === "watch") return watches.serve(cluster, req, ctx.res, reply);
    const answer = dispatch(cluster, info.verb, req);
    sendJson(ctx.res, answer.status, answer.body, { ...reply, headers: { ...reply.headers, ...answer.headers } });
  } catch (err: unknown) {
    if (err instanceof PageNotFound) return sendPageNotFound(ctx.res, ctx.user);
    if (!(err instanceof ApiError)) throw err;
    sendStatus(ctx.res, err.status, { ...reply, headers: { ...reply.headers, ...err.status.headers } });
  }
}

function resolve(cluster: Cluster, found: ResourceType | string, group: string): ResourceType {
  if (typeof found !== "string") return found;
  // Built-in groups answer a JSON NotFound; CRD groups (and unknown ones) fall through to the mux.
  if (found === "group" || !cluster.registry.isBuiltinGroup(group)) throw new PageNotFound();
  throw resourceNotFound();
}

async function request(ctx: RouteContext, r: ResourceType): Promise<ResourceRequest> {
  const { info } = ctx;
  if (!info.isResource) throw resourceNotFound();
  const clusterScopedNamespaces = r.group === "" && r.resource === "namespaces";
  const namespace = r.namespaced ? info.namespace : "";
  if (!r.namespaced && info.namespace !== "" && !clusterScopedNamespaces) throw resourceNotFound();
  if (info.subresource !== "" && !r.subresources.has(info.subresource)) throw resourceNotFound();
  if (r.namespaced && namespace === "" && !["list", "watch"].includes(info.verb)) throw resourceNotFound();
  return {
    r,
    namespace,
    name: info.name,
    subresource: info.subresource,
    query: ctx.url.searchParams,
    body: await readBody(ctx.req),
    contentType: ctx.req.headers["content-type"] ?? "",
    userAgent: ctx.req.headers["user-agent"],
    accept: ctx.req.headers.accept,
  };
}

function dispatch(cluster: Cluster, verb: string, req: ResourceRequest): Answer {
  if (req.subresource === "scale") return serveScale(cluster, verb, req);
  switch (verb) {
    case "get":
      return getObject(cluster, req);
    case "list":
      return listObjects(cluster, req);
    case "create":
      return createObject(cluster, req);
    case "update":
      return updateObject(cluster, req);
    case "patch":
      return patchObject(cluster, req);
    case "delete":
      return deleteObject(cluster, req);
    case "deletecollection":
      return deleteCollection(cluster, req);
    default:
      throw methodNotAllowed();
  }
}
