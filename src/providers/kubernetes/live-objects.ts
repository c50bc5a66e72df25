import type { KObject } from "../../core/object.ts";
import { getPath } from "../../core/object.ts";
import type { ObjRef } from "../../core/objref.ts";
import { splitApiVersion } from "../../core/objref.ts";
import type { ResourceInfo } from "./discovery.ts";
import { objectLocation } from "./discovery.ts";
import { isApiError } from "./errors.ts";
import type { ListOptions } from "./object-requests.ts";
import type { ObjectLocation, ResourceLocation } from "./resource-path.ts";
import type { SessionContext } from "./session-context.ts";

/**
 * Where objects live and what they look like now, for one verb call: kinds resolved once per
 * API version (so a batch of objects of an unknown kind reads discovery again only once), and
 * live objects read with one LIST per kind and namespace, shared by every object in it.
 */

/**
 * Objects of one kind and namespace missing from the stack's LIST that are each looked up by
 * GET; past this many, one LIST without the selector answers for the rest (a first apply of
 * a thousand objects would otherwise GET each one only to hear 404).
 */
export const getsBeforeWideList = 8;
/** The one page a LIST without the selector may take; a bigger collection falls back to GETs. */
export const wideListPage = 500;

/** Resolves refs to object locations through discovery, each API version and kind once. */
export class Locator {
  private readonly ctx: SessionContext;
  private readonly kinds = new Map<string, Promise<ResourceInfo>>();
  private readonly regrouped = new Set<string>();

  constructor(ctx: SessionContext) {
    this.ctx = ctx;
  }

  /** Where an object of this API version lives; throws `UnknownKindError` or a namespace error. */
  async locate(ref: ObjRef, apiVersion: string, signal?: AbortSignal): Promise<ObjectLocation> {
    const { group, version } = splitApiVersion(apiVersion);
    const key = `${apiVersion}\n${ref.kind}`;
    let info = this.kinds.get(key);
    if (info === undefined) {
      info = this.ctx.discovery.resolve(group, version, ref.kind, { ref, ...(signal === undefined ? {} : { signal }) });
      // A failure is not remembered: the next object asks again (discovery may be back).
      void info.catch(() => this.kinds.delete(key));
      this.kinds.set(key, info);
    }
    return objectLocation(await info, ref);
  }

  /** Where an object lives at its group's preferred version, for callers that know no API version. */
  async locatePreferred(ref: ObjRef, signal?: AbortSignal): Promise<ObjectLocation> {
    let gv = await this.ctx.discovery.groupVersions(ref.group, signal);
    if (gv === undefined && !this.regrouped.has(ref.group)) {
      // A group unknown to a cached discovery may have appeared since (a CRD applied meanwhile).
      this.regrouped.add(ref.group);
      this.ctx.discovery.invalidate();
      gv = await this.ctx.discovery.groupVersions(ref.group, signal);
    }
    const version = gv?.preferred ?? "v1";
    return this.locate(ref, ref.group === "" ? version : `${ref.group}/${version}`, signal);
  }
}

/** What a LIST told about one object: `listed` false when the LIST failed and nothing is known. */
export type LiveLookup = { readonly listed: true; readonly object: KObject | undefined } | { readonly listed: false; readonly error: unknown };

/** Live objects by LIST, one per kind and namespace, with an optional label selector. */
export class LiveIndex {
  private readonly ctx: SessionContext;
  private readonly labelSelector: string | undefined;
  private readonly lists = new Map<string, Promise<LiveLookupTable>>();
  private readonly wideLists = new Map<string, Promise<LiveLookupTable>>();
  private readonly misses = new Map<string, number>();

  constructor(ctx: SessionContext, labelSelector?: string) {
    this.ctx = ctx;
    this.labelSelector = labelSelector;
  }

  /**
   * The live object at a location, from the LIST of its kind and namespace. Absent from a
   * selector's LIST means only "not labelled as the selector asks", not "absent".
   */
  async lookup(loc: ObjectLocation, signal?: AbortSignal): Promise<LiveLookup> {
    const key = collectionKey(loc);
    let table = this.lists.get(key);
    if (table === undefined) {
      table = this.list(collectionOf(loc), { ...(this.labelSelector === undefined ? {} : { labelSelector: this.labelSelector }) }, signal);
      this.lists.set(key, table);
    }
    const t = await table;
    if ("error" in t) return { listed: false, error: t.error };
    return { listed: true, object: t.byName.get(loc.name) };
  }

  /**
   * The live object at a location, undefined when it does not exist. Missing from the
   * selector's LIST, it may still exist without the stack's labels: the first
   * {@link getsBeforeWideList} such objects of a kind and namespace are read by GET, the rest
   * from one LIST without the selector (when the collection fits in {@link wideListPage}).
   */
  async find(loc: ObjectLocation, signal?: AbortSignal): Promise<KObject | undefined> {
    const found = await this.lookup(loc, signal);
    if (found.listed && (found.object !== undefined || this.labelSelector === undefined)) return found.object;
    const wide = found.listed ? await this.wideLookup(loc, signal) : undefined;
    if (wide?.listed === true) return wide.object;
    try {
      return await this.ctx.client.get(loc, signal);
    } catch (err: unknown) {
      if (isApiError(err, "NotFound")) return undefined;
      throw err;
    }
  }

  /** Forgets every LIST, so the next lookups read again. */
  clear(): void {
    this.lists.clear();
    this.wideLists.clear();
    this.misses.clear();
  }

  // Undefined while the collection is under the GET budget; not `listed` when the LIST failed or the collection is too big.
  private async wideLookup(loc: ObjectLocation, signal: AbortSignal | undefined): Promise<LiveLookup | undefined> {
    const key = collectionKey(loc);
    let table = this.wideLists.get(key);
    if (table === undefined) {
      const misses = (this.misses.get(key) ?? 0) + 1;
      this.misses.set(key, misses);
      if (misses <= getsBeforeWideList) return undefined;
      table = this.list(collectionOf(loc), { limit: wideListPage, maxPages: 1 }, signal);
      this.wideLists.set(key, table);
    }
    const t = await table;
    if ("error" in t) return { listed: false, error: t.error };
    return { listed: true, object: t.byName.get(loc.name) };
  }

  private async list(loc: ResourceLocation, opts: ListOptions, signal: AbortSignal | undefined): Promise<LiveLookupTable> {
    try {
      const res = await this.ctx.client.list(loc, { ...opts, ...(signal === undefined ? {} : { signal }) });
      if (res.truncated === true) return { error: new Error(`more than ${res.items.length} objects`) };
      const byName = new Map<string, KObject>();
      for (const item of res.items) {
        const name = getPath(item, ["metadata", "name"]);
        if (typeof name === "string") byName.set(name, item);
      }
      return { byName };
    } catch (error: unknown) {
      if (signal?.aborted === true) throw error;
      return { error };
    }
  }
}

type LiveLookupTable = { readonly byName: ReadonlyMap<string, KObject> } | { readonly error: unknown };

function collectionOf(loc: ObjectLocation): ResourceLocation {
  return {
    group: loc.group, version: loc.version, resource: loc.resource, kind: loc.kind,
    ...(loc.namespace === undefined ? {} : { namespace: loc.namespace }),
  };
}

function collectionKey(loc: ObjectLocation): string {
  return `${loc.group}/${loc.version}/${loc.resource}/${loc.namespace ?? ""}`;
}
