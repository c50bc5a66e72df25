import type { JsonObject } from "./values.ts";
import { clone, isObject } from "./values.ts";

/** Where objects of one resource are kept, whatever version they are read at: `group/resource`. */
export type StorageKey = string;

/** The storage key of a resource. */
export function storageKey(group: string, resource: string): StorageKey {
  return `${group}/${resource}`;
}

/** A change to one object, as watches stream it. */
export interface StoreEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  readonly storage: StorageKey;
  readonly namespace: string;
  readonly name: string;
  readonly resourceVersion: number;
  /** The object as stored after the change (for DELETED: the last state with a new resourceVersion). */
  readonly object: JsonObject;
}

/** Options of {@link ObjectStore}. */
export interface ObjectStoreOptions {
  /** How many events per resource the watch cache keeps; watches from older resourceVersions are Expired. Default 1000. */
  readonly watchCacheSize?: number;
  /** How many events per resource "etcd" keeps for lists at an exact resourceVersion. Default 10000. */
  readonly historyLimit?: number;
  /** The first resourceVersion handed out. Default 100. */
  readonly firstResourceVersion?: number;
}

/**
 * The fake's etcd: objects by resource, namespace and name, one increasing resourceVersion
 * for every write, and a bounded event history per resource for watches.
 */
export class ObjectStore {
  private revision: number;
  private readonly objects = new Map<StorageKey, Map<string, JsonObject>>();
  private readonly history = new Map<StorageKey, StoreEvent[]>();
  private readonly listeners = new Set<(event: StoreEvent) => void>();
  private readonly historyLimit: number;
  private readonly watchCacheSize: number;

  constructor(opts: ObjectStoreOptions = {}) {
    this.revision = (opts.firstResourceVersion ?? 100) - 1;
    this.watchCacheSize = opts.watchCacheSize ?? 1000;
    this.historyLimit = Math.max(opts.historyLimit ?? 10000, this.watchCacheSize);
  }

  /** The latest resourceVersion, as lists report it. */
  currentResourceVersion(): number {
    return this.revision;
  }

  /** A copy of one object, or undefined. */
  get(storage: StorageKey, namespace: string, name: string): JsonObject | undefined {
    const obj = this.objects.get(storage)?.get(objectKey(namespace, name));
    return obj === undefined ? undefined : clone(obj);
  }

  /** Copies of the objects of a resource (in one namespace, or all), sorted by namespace and name. */
  list(storage: StorageKey, namespace?: string): JsonObject[] {
    const bucket = this.objects.get(storage);
    if (bucket === undefined) return [];
    const keys = [...bucket.keys()].sort();
    const out: JsonObject[] = [];
    for (const key of keys) {
      const obj = bucket.get(key);
      if (obj === undefined) continue;
      if (namespace !== undefined && namespace !== "" && namespaceOf(obj) !== namespace) continue;
      out.push(clone(obj));
    }
    return out;
  }

  /** Every resource that holds objects. */
  storages(): StorageKey[] {
    return [...this.objects.keys()];
  }

  /** Stores a new or changed object with the next resourceVersion and returns a copy as stored. */
  put(storage: StorageKey, obj: JsonObject): JsonObject {
    const meta = metadataOf(obj);
    const namespace = typeof meta["namespace"] === "string" ? meta["namespace"] : "";
    const name = String(meta["name"]);
    const bucket = this.bucket(storage);
    const key = objectKey(namespace, name);
    const existed = bucket.has(key);
    const stored = clone(obj);
    this.revision += 1;
    metadataOf(stored)["resourceVersion"] = String(this.revision);
    bucket.set(key, stored);
    this.emit({ type: existed ? "MODIFIED" : "ADDED", storage, namespace, name, resourceVersion: this.revision, object: clone(stored) });
    return clone(stored);
  }

  /** Removes an object; the DELETED event carries its last state with a new resourceVersion. */
  remove(storage: StorageKey, namespace: string, name: string): JsonObject | undefined {
    const bucket = this.objects.get(storage);
    const key = objectKey(namespace, name);
    const obj = bucket?.get(key);
    if (bucket === undefined || obj === undefined) return undefined;
    bucket.delete(key);
    this.revision += 1;
    const last = clone(obj);
    metadataOf(last)["resourceVersion"] = String(this.revision);
    this.emit({ type: "DELETED", storage, namespace, name, resourceVersion: this.revision, object: clone(last) });
    return obj;
  }

  /**
   * The objects of a resource as they were at `resourceVersion` (a list with
   * resourceVersionMatch=Exact), rebuilt from the event history; undefined when the history no
   * longer reaches back that far.
   */
  listAt(storage: StorageKey, resourceVersion: number, namespace?: string): JsonObject[] | undefined {
    const events = this.history.get(storage) ?? [];
    const oldest = events[0];
    if (this.dropped.has(storage) && (oldest === undefined || resourceVersion < oldest.resourceVersion - 1)) return undefined;
    const state = new Map<string, JsonObject | undefined>();
    for (const e of events) if (e.resourceVersion <= resourceVersion) state.set(objectKey(e.namespace, e.name), e.type === "DELETED" ? undefined : e.object);
    return [...state.keys()]
      .sort()
      .map((k) => state.get(k))
      .filter((o): o is JsonObject => o !== undefined && (namespace === undefined || namespace === "" || namespaceOf(o) === namespace))
      .map((o) => clone(o));
  }

  /** Subscribes to every change; returns the unsubscribe function. */
  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The events of a resource after `resourceVersion`, or the oldest version still known when
   * the history no longer reaches back that far (the watch answers 410 Expired then).
   */
  eventsSince(storage: StorageKey, resourceVersion: number): StoreEvent[] | { readonly expired: number } {
    const all = this.history.get(storage) ?? [];
    const events = all.slice(-this.watchCacheSize);
    const oldest = events[0];
    const truncated = this.dropped.has(storage) || events.length < all.length;
    if (oldest !== undefined && truncated && resourceVersion < oldest.resourceVersion - 1) {
      return { expired: oldest.resourceVersion - 1 };
    }
    return events.filter((e) => e.resourceVersion > resourceVersion);
  }

  private readonly dropped = new Set<StorageKey>();

  private emit(event: StoreEvent): void {
    const events = this.history.get(event.storage) ?? [];
    events.push(event);
    if (events.length > this.historyLimit) {
      events.shift();
      this.dropped.add(event.storage);
    }
    this.history.set(event.storage, events);
    for (const listener of [...this.listeners]) listener(event);
  }

  private bucket(storage: StorageKey): Map<string, JsonObject> {
    let bucket = this.objects.get(storage);
    if (bucket === undefined) {
      bucket = new Map();
      this.objects.set(storage, bucket);
    }
    return bucket;
  }
}

function objectKey(namespace: string, name: string): string {
  return namespace === "" ? name : `${namespace}/${name}`;
}

/** The metadata object of a stored object (created when missing). */
export function metadataOf(obj: JsonObject): JsonObject {
  const meta = obj["metadata"];
  if (isObject(meta)) return meta;
  const created: JsonObject = {};
  obj["metadata"] = created;
  return created;
}

function namespaceOf(obj: JsonObject): string {
  const ns = metadataOf(obj)["namespace"];
  return typeof ns === "string" ? ns : "";
}
