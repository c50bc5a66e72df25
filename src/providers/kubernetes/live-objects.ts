import type { KObject } from "../../core/object.ts";
import { getPath } from "../../core/object.ts";
import type { ObjRef } from "../../core/objref.ts";
import { splitApiVersion } from "../../core/objref.ts";
import type { ResourceInfo } from "./discovery.ts";
import { objectLocation } from "./discovery.ts";
import type { ObjectLocation, ResourceLocation } from "./resource-path.ts";
import type { SessionContext } from "./session-context.ts";

/**
 * Where objects live and what they look like now, for one verb call: kinds resolved once per
 * API version (so a batch of objects of an unknown kind reads discovery again only once), and
 * live objects read with one LIST per kind and namespace, shared by every object in it.
 */

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

  constructor(ctx: SessionContext, labelSelector?: string) {
    this.ctx = ctx;
    this.labelSelector = labelSelector;
  }

  /**
   * The live object at a location, from the LIST of its kind and namespace. Absent from a
   * selector's LIST means only "not labelled as the selector asks", not "absent".
   */
  async lookup(loc: ObjectLocation, signal?: AbortSignal): Promise<LiveLookup> {
    const collection: ResourceLocation = {
      group: loc.group, version: loc.version, resource: loc.resource, kind: loc.kind,
      ...(loc.namespace === undefined ? {} : { namespace: loc.namespace }),
    };
    const key = `${loc.group}/${loc.version}/${loc.resource}/${loc.namespace ?? ""}`;
    let table = this.lists.get(key);
    if (table === undefined) {
      table = this.list(collection, signal);
      this.lists.set(key, table);
    }
    const t = await table;
    if ("error" in t) return { listed: false, error: t.error };
    return { listed: true, object: t.byName.get(loc.name) };
  }

  /** Forgets every LIST, so the next lookups read again. */
  clear(): void {
    this.lists.clear();
  }

  private async list(loc: ResourceLocation, signal: AbortSignal | undefined): Promise<LiveLookupTable> {
    try {
      const res = await this.ctx.client.list(loc, {
        ...(this.labelSelector === undefined ? {} : { labelSelector: this.labelSelector }),
        ...(signal === undefined ? {} : { signal }),
      });
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
