import type { RecordedExchange } from "./recordings.ts";
import { listExchanges, readExchange } from "./recordings.ts";
import { sendJson, sendPageNotFound, sendStatus } from "./http.ts";
import type { Route, RouteContext } from "./router.ts";

/** The discovery documents the fake serves, all taken from the recordings. */
export interface DiscoveryData {
  readonly version: unknown;
  readonly coreVersions: unknown;
  readonly groupList: { readonly groups: readonly Record<string, unknown>[] };
  /** APIResourceList by groupVersion (`v1`, `apps/v1`). */
  readonly resourceLists: ReadonlyMap<string, unknown>;
  /** The 406 Status body for requests accepting only aggregated discovery. */
  readonly notAcceptable: Record<string, unknown>;
}

/** The groups served by CRDs, which come and go with them. */
export interface CustomGroups {
  /** APIGroup entries, in the order /apis lists them after the built-in groups. */
  groups(): Record<string, unknown>[];
  /** The APIResourceList of a CRD group version, if served. */
  resourceList(groupVersion: string): unknown;
}

/** Loads the discovery documents of the built-in groups, as recorded before any CRD existed. */
export async function loadDiscovery(): Promise<DiscoveryData> {
  const files = [...(await listExchanges("01-discovery")), ...(await listExchanges("01-discovery/all-group-versions"))];
  const resourceLists = new Map<string, unknown>();
  for (const file of files) {
    const body = (await readExchange(file)).response.body;
    if (isObject(body) && body["kind"] === "APIResourceList" && typeof body["groupVersion"] === "string") {
      resourceLists.set(body["groupVersion"], body);
    }
  }
  return {
    version: await bodyOf("01-discovery/get-version.json"),
    coreVersions: await bodyOf("01-discovery/get-api.json"),
    groupList: (await bodyOf("01-discovery/get-apis.json")) as DiscoveryData["groupList"],
    resourceLists,
    notAcceptable: (await bodyOf("01-discovery/aggregated-apis-v2-v2beta1-only.json")) as Record<string, unknown>,
  };
}

async function bodyOf(file: string): Promise<unknown> {
  const exchange: RecordedExchange = await readExchange(file);
  return exchange.response.body;
}

/** The routes of /version, /api, /apis and their group versions (built-in and CRD groups). */
export function discoveryRoutes(data: DiscoveryData, custom: CustomGroups): Route[] {
  const json = (body: () => unknown) => (ctx: RouteContext) => sendJson(ctx.res, 200, body(), { user: ctx.user });
  const groupList = () => ({ ...data.groupList, groups: [...data.groupList.groups, ...custom.groups()] });
  return [
    { method: "GET", path: /^\/version\/?$/, handle: (ctx) => sendJson(ctx.res, 200, data.version, { user: ctx.user, pretty: true }) },
    { method: "GET", path: /^\/api\/?$/, handle: negotiated(data, json(() => data.coreVersions)) },
    { method: "GET", path: /^\/api\/([^/]+)\/?$/, handle: negotiated(data, (ctx) => serveGroupVersion(data, custom, ctx, ctx.params[0] ?? "")) },
    { method: "GET", path: /^\/apis\/?$/, handle: negotiated(data, json(groupList)) },
    { method: "GET", path: /^\/apis\/([^/]+)\/?$/, handle: negotiated(data, (ctx) => serveGroup(groupList().groups, ctx)) },
    {
      method: "GET",
      path: /^\/apis\/([^/]+)\/([^/]+)\/?$/,
      handle: negotiated(data, (ctx) => serveGroupVersion(data, custom, ctx, `${ctx.params[0]}/${ctx.params[1]}`)),
    },
  ];
}

function serveGroup(groups: readonly Record<string, unknown>[], ctx: RouteContext): void {
  const group = groups.find((g) => g["name"] === ctx.params[0]);
  if (group === undefined) return sendPageNotFound(ctx.res, ctx.user);
  sendJson(ctx.res, 200, { kind: "APIGroup", apiVersion: "v1", ...group }, { user: ctx.user });
}

function serveGroupVersion(data: DiscoveryData, custom: CustomGroups, ctx: RouteContext, groupVersion: string): void {
  const list = data.resourceLists.get(groupVersion) ?? custom.resourceList(groupVersion);
  if (list !== undefined) return sendJson(ctx.res, 200, list, { user: ctx.user });
  const group = groupVersion.includes("/") ? groupVersion.slice(0, groupVersion.indexOf("/")) : "";
  const builtin = group === "" || data.groupList.groups.some((g) => g["name"] === group);
  // A built-in group answers a JSON NotFound; other groups fall through to the mux's text 404.
  if (!builtin) return sendPageNotFound(ctx.res, ctx.user);
  sendStatus(
    ctx.res,
    { code: 404, reason: "NotFound", message: "the server could not find the requested resource", details: {} },
    { user: ctx.user },
  );
}

/** Wraps a handler with the content negotiation of discovery: aggregated discovery only gets 406. */
function negotiated(data: DiscoveryData, handle: (ctx: RouteContext) => void): (ctx: RouteContext) => void {
  return (ctx) => {
    if (acceptsPlainJson(ctx.req.headers.accept)) return handle(ctx);
    sendJson(ctx.res, 406, data.notAcceptable, { user: ctx.user, pretty: true });
  };
}

const servedTypes = new Set(["application/json", "application/yaml", "application/vnd.kubernetes.protobuf", "*/*", "application/*"]);

/** True when one of the Accept header's media ranges is a plain type the server serves. */
export function acceptsPlainJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === "") return true;
  return accept.split(",").some((range) => {
    const [type = "", ...params] = range.split(";").map((s) => s.trim());
    return servedTypes.has(type.toLowerCase()) && !params.some((p) => p.toLowerCase().startsWith("as="));
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
