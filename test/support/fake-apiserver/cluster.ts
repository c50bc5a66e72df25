import type { CrdInfo, CrdVersion } from "./crd-schema.ts";
import { customResourceType } from "./crd-schema.ts";
import { Allocator } from "./defaults.ts";
import { formatTime } from "./managed-fields.ts";
import { OpenApiTypes } from "./openapi-types.ts";
import type { ResourceType } from "./resources.ts";
import { ResourceRegistry } from "./resources.ts";
import { ObjectStore, storageKey } from "./store.ts";
import type { TypeRef } from "./type-model.ts";
import type { JsonObject } from "./values.ts";
import { isObject, objectAt } from "./values.ts";

/** How long the simulated controllers take, in milliseconds. */
export interface ControllerTiming {
  /** Until the garbage collector finishes a foreground/orphan delete or removes dependents. Default 50. */
  readonly gcDelayMs: number;
  /** Until the namespace controller empties a Terminating namespace. Default 50. */
  readonly namespaceCleanupDelayMs: number;
  /** Until a new CRD is Established and served. Default 100. */
  readonly crdEstablishDelayMs: number;
  /** Until a deleted CRD's instances are removed. Default 50. */
  readonly crdCleanupDelayMs: number;
  /** Until kube-controller-manager writes a Deployment's status. Default 20. */
  readonly deploymentStatusDelayMs: number;
}

/** The default {@link ControllerTiming}. */
export const defaultTiming: ControllerTiming = {
  gcDelayMs: 50,
  namespaceCleanupDelayMs: 50,
  crdEstablishDelayMs: 100,
  crdCleanupDelayMs: 50,
  deploymentStatusDelayMs: 20,
};

/** What a {@link Cluster} is built from. */
export interface ClusterOptions {
  /** The recorded APIResourceList documents of the built-in groups. */
  readonly resourceLists: Iterable<unknown>;
  /** The parsed /openapi/v2 document. */
  readonly openapi: unknown;
  readonly clock: () => Date;
  readonly timing: ControllerTiming;
  readonly watchCacheSize?: number;
}

/**
 * The state behind the fake API server: stored objects, the served resources, their types and
 * the established CRDs. Request handlers and simulated controllers both work through it.
 */
export class Cluster {
  readonly store: ObjectStore;
  readonly registry: ResourceRegistry;
  readonly types: OpenApiTypes;
  readonly allocate = new Allocator();
  readonly timing: ControllerTiming;
  private readonly clock: () => Date;
  private readonly crds = new Map<string, CrdInfo>();

  constructor(opts: ClusterOptions) {
    this.store = new ObjectStore(opts.watchCacheSize === undefined ? {} : { watchCacheSize: opts.watchCacheSize });
    this.registry = new ResourceRegistry(opts.resourceLists);
    this.types = new OpenApiTypes(opts.openapi);
    this.clock = opts.clock;
    this.timing = opts.timing;
  }

  /** The current time. */
  now(): Date {
    return this.clock();
  }

  /** The current time as metadata timestamps spell it. */
  timestamp(): string {
    return formatTime(this.clock());
  }

  /** Registers (or forgets, with undefined) the served form of an established CRD. */
  setCrd(name: string, info: CrdInfo | undefined): void {
    if (info === undefined) this.crds.delete(name);
    else this.crds.set(name, info);
  }

  /** Established CRDs by name. */
  establishedCrds(): ReadonlyMap<string, CrdInfo> {
    return this.crds;
  }

  /** The CRD version serving a custom resource type. */
  crdVersion(r: ResourceType): CrdVersion | undefined {
    if (r.crd === undefined) return undefined;
    return this.crds.get(r.crd)?.versions.find((v) => v.name === r.version);
  }

  /** The root type of objects of a resource, if known. */
  rootType(r: ResourceType): TypeRef | undefined {
    const version = this.crdVersion(r);
    if (version !== undefined) return customResourceType(version);
    return this.types.kindType(r.group, r.version, r.kind);
  }

  /** The type of an apply patch's apiVersion/kind, as the type converter finds it. */
  typeForKind(group: string, version: string, kind: string): TypeRef | undefined {
    const custom = this.registry.byKind(group, version, kind);
    if (custom?.crd !== undefined) return this.rootType(custom);
    return this.types.kindType(group, version, kind);
  }

  /** True when objects of the resource have a top-level field (spec, status) in their schema. */
  hasField(r: ResourceType, field: string): boolean {
    const root = this.rootType(r);
    if (root === undefined) return false;
    const node = this.types.resolve(root);
    return node.kind === "map" && node.fields?.has(field) === true;
  }

  /** A stored object. */
  get(r: ResourceType, namespace: string, name: string): JsonObject | undefined {
    return this.store.get(r.storage, r.namespaced ? namespace : "", name);
  }

  /** Whether a namespace exists and whether it is being deleted. */
  namespaceState(name: string): "missing" | "active" | "terminating" {
    const ns = this.store.get(storageKey("", "namespaces"), "", name);
    if (ns === undefined) return "missing";
    return objectAt(ns, "metadata")?.["deletionTimestamp"] !== undefined ? "terminating" : "active";
  }

  /** The resource type of a storage key, at its first served version. */
  typeOfStorage(storage: string): ResourceType | undefined {
    return this.registry.storages().find((t) => t.storage === storage);
  }

  /** The built-in resource type of a core or group kind at a version. */
  builtin(group: string, version: string, resource: string): ResourceType {
    const t = this.registry.lookup(group, version, resource);
    if (typeof t === "string") throw new Error(`fake API server: ${group}/${version}/${resource} is not served`);
    return t;
  }
}

/** True when a stored object is being deleted (has a deletionTimestamp). */
export function isDeleting(obj: JsonObject): boolean {
  return objectAt(obj, "metadata")?.["deletionTimestamp"] !== undefined;
}

/** The finalizers of an object. */
export function finalizersOf(obj: JsonObject): string[] {
  const f = objectAt(obj, "metadata")?.["finalizers"];
  return Array.isArray(f) ? f.map(String) : [];
}

/** The uid of an object. */
export function uidOf(obj: JsonObject): string {
  const meta = obj["metadata"];
  return isObject(meta) && typeof meta["uid"] === "string" ? meta["uid"] : "";
}
