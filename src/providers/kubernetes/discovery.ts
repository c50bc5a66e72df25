import { GitwardError } from "../../core/errors.ts";
import { mapLimit } from "../../core/map-limit.ts";
import { isRecord } from "../../core/object.ts";
import type { ObjRef } from "../../core/objref.ts";
import { formatRef } from "../../core/objref.ts";
import type { RequestContext } from "./errors.ts";
import { isApiError } from "./errors.ts";
import type { ObjectLocation } from "./resource-path.ts";
import { groupVersionPath } from "./resource-path.ts";

/** What discovery needs of a client: JSON GETs. {@link KubeClient} is one. */
export interface DiscoveryClient {
  getJson(path: string, signal?: AbortSignal, context?: RequestContext): Promise<unknown>;
}

/** One resource a group version serves. */
export interface ResourceInfo {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** The plural resource name used in paths, e.g. `deployments`. */
  readonly resource: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
}

/** The versions a group serves, and the one the server prefers. */
export interface GroupVersions {
  readonly group: string;
  readonly preferred: string;
  readonly served: readonly string[];
}

/** Everything a server serves, from {@link Discovery.readAll}. */
export interface ServedResources {
  readonly resources: readonly ResourceInfo[];
  /** Group versions (`v1`, `apps/v1`), sorted, whose document the server could not give: an aggregated API down (503), a group gone meanwhile (404). */
  readonly unavailable: readonly string[];
}

/** A kind the server does not serve, even after discovery was read again. */
export class UnknownKindError extends GitwardError {
  readonly apiVersion: string;
  readonly kind: string;

  constructor(apiVersion: string, kind: string, served: boolean, ref?: ObjRef) {
    const why = served ? `${apiVersion} serves no kind ${kind}` : `${apiVersion} is not served`;
    super("cluster", `unknown kind ${apiVersion} ${kind}: ${why}`, {
      ...(ref === undefined ? {} : { subject: { ref } }),
      hint: "is the CustomResourceDefinition applied and Established, or the API group installed?",
    });
    this.name = "UnknownKindError";
    this.apiVersion = apiVersion;
    this.kind = kind;
  }
}

/**
 * A discovery cache: `/api` and `/apis` for groups and versions, `/api/v1` and
 * `/apis/<group>/<version>` (each read when first needed) for resources. A kind not found is
 * looked up once more after the cache is dropped, so a CRD applied earlier in the same sync is
 * found; concurrent misses share that one refresh.
 */
export class Discovery {
  private readonly client: DiscoveryClient;
  private generation = 0;
  private groupsCache: Promise<ReadonlyMap<string, GroupVersions>> | undefined;
  private readonly resourceCache = new Map<string, Promise<readonly ResourceInfo[]>>();

  constructor(client: DiscoveryClient) {
    this.client = client;
  }

  /** Every group (the core group as "") with its served and preferred versions. */
  groups(signal?: AbortSignal): Promise<ReadonlyMap<string, GroupVersions>> {
    if (this.groupsCache !== undefined) return this.groupsCache;
    // A failed read is not cached, so the next lookup tries again.
    const fetching = this.fetchGroups(signal).catch((err: unknown) => {
      if (this.groupsCache === fetching) this.groupsCache = undefined;
      throw err;
    });
    this.groupsCache = fetching;
    return fetching;
  }

  /** The versions of one group, or undefined when the server does not serve it. */
  async groupVersions(group: string, signal?: AbortSignal): Promise<GroupVersions | undefined> {
    return (await this.groups(signal)).get(group);
  }

  /** The resources of a group version (subresources left out); empty when it is not served. */
  async resources(group: string, version: string, signal?: AbortSignal): Promise<readonly ResourceInfo[]> {
    const gv = await this.groupVersions(group, signal);
    if (gv === undefined || !gv.served.includes(version)) return [];
    const key = `${group}/${version}`;
    let cached = this.resourceCache.get(key);
    if (cached === undefined) {
      const fetching = this.fetchServedResources(group, version, signal).catch((err: unknown) => {
        if (this.resourceCache.get(key) === fetching) this.resourceCache.delete(key);
        throw err;
      });
      this.resourceCache.set(key, fetching);
      cached = fetching;
    }
    return cached;
  }

  /**
   * The resource of a kind in a group version. When it is unknown, discovery is read again once;
   * still unknown, it is an {@link UnknownKindError} naming `ref`.
   */
  async resolve(group: string, version: string, kind: string, opts: { readonly ref?: ObjRef; readonly signal?: AbortSignal } = {}): Promise<ResourceInfo> {
    const seen = this.generation;
    const first = await this.find(group, version, kind, opts.signal);
    if (first !== undefined) return first;
    this.refresh(seen);
    const second = await this.find(group, version, kind, opts.signal);
    if (second !== undefined) return second;
    const served = (await this.groupVersions(group, opts.signal))?.served.includes(version) ?? false;
    throw new UnknownKindError(group === "" ? version : `${group}/${version}`, kind, served, opts.ref);
  }

  /**
   * Reads every group version the server lists, at most `concurrency` at once, without caching
   * them. As kubectl, it carries on without the group versions the server cannot describe.
   */
  async readAll(opts: { readonly concurrency: number; readonly signal?: AbortSignal }): Promise<ServedResources> {
    const groups = [...(await this.groups(opts.signal)).values()];
    const versions = groups.flatMap((g) => g.served.map((version) => ({ group: g.group, version })));
    const unavailable: string[] = [];
    const lists = await mapLimit(versions, opts.concurrency, async ({ group, version }) => {
      try {
        return await this.fetchResources(group, version, opts.signal);
      } catch (err: unknown) {
        if (!isApiError(err) || (err.status !== 503 && err.status !== 404)) throw err;
        unavailable.push(group === "" ? version : `${group}/${version}`);
        return [];
      }
    });
    return { resources: lists.flat(), unavailable: unavailable.sort() };
  }

  /** Drops everything cached; the next lookups read discovery again. */
  invalidate(): void {
    this.generation++;
    this.groupsCache = undefined;
    this.resourceCache.clear();
  }

  private async find(group: string, version: string, kind: string, signal: AbortSignal | undefined): Promise<ResourceInfo | undefined> {
    return (await this.resources(group, version, signal)).find((r) => r.kind === kind);
  }

  // Only the first of concurrent misses drops the cache; the others find its fresh reads.
  private refresh(seenGeneration: number): void {
    if (this.generation === seenGeneration) this.invalidate();
  }

  private async fetchGroups(signal: AbortSignal | undefined): Promise<ReadonlyMap<string, GroupVersions>> {
    const ctx = (path: string): RequestContext => ({ operation: "discover", method: "GET", path });
    const [core, apis] = await Promise.all([this.client.getJson("/api", signal, ctx("/api")), this.client.getJson("/apis", signal, ctx("/apis"))]);
    const out = new Map<string, GroupVersions>();
    const coreVersions = isRecord(core) && Array.isArray(core["versions"]) ? core["versions"].filter((v) => typeof v === "string") : [];
    const corePreferred = coreVersions[0];
    if (corePreferred !== undefined) out.set("", { group: "", preferred: corePreferred, served: coreVersions });
    const groups = isRecord(apis) && Array.isArray(apis["groups"]) ? apis["groups"] : [];
    for (const g of groups) {
      if (!isRecord(g) || typeof g["name"] !== "string") continue;
      const served = (Array.isArray(g["versions"]) ? g["versions"] : []).flatMap((v) => (isRecord(v) && typeof v["version"] === "string" ? [v["version"]] : []));
      const pref = isRecord(g["preferredVersion"]) ? g["preferredVersion"]["version"] : undefined;
      const preferred = typeof pref === "string" ? pref : served[0];
      if (preferred !== undefined) out.set(g["name"], { group: g["name"], preferred, served });
    }
    return out;
  }

  private async fetchServedResources(group: string, version: string, signal: AbortSignal | undefined): Promise<readonly ResourceInfo[]> {
    try {
      return await this.fetchResources(group, version, signal);
    } catch (err: unknown) {
      // Listed a moment ago, gone now (a CRD deleted meanwhile): it serves nothing.
      if (isApiError(err, "NotFound") || isApiError(err, "NotServed")) return [];
      throw err;
    }
  }

  private async fetchResources(group: string, version: string, signal: AbortSignal | undefined): Promise<readonly ResourceInfo[]> {
    const path = groupVersionPath(group, version);
    const body = await this.client.getJson(path, signal, { operation: "discover", method: "GET", path });
    const list = isRecord(body) && Array.isArray(body["resources"]) ? body["resources"] : [];
    const out: ResourceInfo[] = [];
    for (const r of list) {
      if (!isRecord(r) || typeof r["name"] !== "string" || typeof r["kind"] !== "string" || r["name"].includes("/")) continue;
      const verbs = Array.isArray(r["verbs"]) ? r["verbs"].filter((v) => typeof v === "string") : [];
      out.push({ group, version, kind: r["kind"], resource: r["name"], namespaced: r["namespaced"] === true, verbs });
    }
    return out;
  }
}

/**
 * Where an object lives, from its resource and ref. A namespace on a cluster-scoped kind is
 * dropped (the API ignores it too); a namespaced kind without one is an error naming the object.
 */
export function objectLocation(info: ResourceInfo, ref: ObjRef): ObjectLocation {
  const base = { group: info.group, version: info.version, resource: info.resource, kind: info.kind, name: ref.name };
  if (!info.namespaced) return base;
  if (ref.namespace === undefined || ref.namespace === "") {
    throw new GitwardError("cluster", `${formatRef(ref)}: ${info.kind} is namespaced, and the object names no namespace`);
  }
  return { ...base, namespace: ref.namespace };
}
