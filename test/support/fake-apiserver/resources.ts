import type { ResourceName } from "./errors.ts";
import type { StorageKey } from "./store.ts";
import { storageKey } from "./store.ts";
import { isObject } from "./values.ts";

/** One served resource at one group version, as discovery lists it. */
export interface ResourceType extends ResourceName {
  readonly version: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
  /** Served subresources, e.g. `status`, `scale`. */
  readonly subresources: ReadonlySet<string>;
  readonly singularName: string;
  readonly shortNames: readonly string[];
  /** For custom resources, the name of their CustomResourceDefinition. */
  readonly crd?: string;
  readonly storage: StorageKey;
}

/** `v1` or `apps/v1`. */
export function groupVersion(t: { readonly group: string; readonly version: string }): string {
  return t.group === "" ? t.version : `${t.group}/${t.version}`;
}

/** Why a resource URL is not served. */
export type Missing = "group" | "version" | "resource";

/**
 * The resources the fake serves: every resource of the recorded discovery documents, plus the
 * custom resources of established CRDs. Versions of one resource share their storage.
 */
export class ResourceRegistry {
  private readonly builtin = new Map<string, ResourceType>();
  private readonly builtinGroupVersions = new Set<string>();
  private readonly builtinGroups = new Set<string>([""]);
  private readonly custom = new Map<string, ResourceType[]>();

  constructor(resourceLists: Iterable<unknown>) {
    for (const list of resourceLists) {
      if (!isObject(list) || typeof list["groupVersion"] !== "string" || !Array.isArray(list["resources"])) continue;
      const gv = list["groupVersion"];
      const [group, version] = gv.includes("/") ? [gv.slice(0, gv.indexOf("/")), gv.slice(gv.indexOf("/") + 1)] : ["", gv];
      this.builtinGroupVersions.add(gv);
      this.builtinGroups.add(group);
      const entries = list["resources"].filter(isObject);
      for (const entry of entries) {
        const name = String(entry["name"]);
        if (name.includes("/")) continue;
        const subresources = new Set(
          entries.map((e) => String(e["name"])).filter((n) => n.startsWith(`${name}/`)).map((n) => n.slice(name.length + 1)),
        );
        const type: ResourceType = {
          group,
          version,
          resource: name,
          kind: String(entry["kind"]),
          namespaced: entry["namespaced"] === true,
          verbs: Array.isArray(entry["verbs"]) ? entry["verbs"].map(String) : [],
          subresources,
          singularName: typeof entry["singularName"] === "string" ? entry["singularName"] : "",
          shortNames: Array.isArray(entry["shortNames"]) ? entry["shortNames"].map(String) : [],
          storage: storageKey(group, name),
        };
        this.builtin.set(`${gv}/${name}`, type);
      }
    }
  }

  /** The resource at a group version, or why there is none. */
  lookup(group: string, version: string, resource: string): ResourceType | Missing {
    const gv = groupVersion({ group, version });
    const found = this.builtin.get(`${gv}/${resource}`) ?? this.customTypes().find((t) => groupVersion(t) === gv && t.resource === resource);
    if (found !== undefined) return found;
    if (this.builtinGroupVersions.has(gv)) return "resource";
    if (this.builtinGroups.has(group)) return "version";
    return "group";
  }

  /** The resource serving a kind at a group version. */
  byKind(group: string, version: string, kind: string): ResourceType | undefined {
    const gv = groupVersion({ group, version });
    return [...this.builtin.values(), ...this.customTypes()].find((t) => groupVersion(t) === gv && t.kind === kind);
  }

  /** True for groups of the built-in API (their unknown versions answer a JSON 404). */
  isBuiltinGroup(group: string): boolean {
    return this.builtinGroups.has(group);
  }

  /** One resource type per storage (the first version found), for controllers that sweep everything. */
  storages(): ResourceType[] {
    const seen = new Map<StorageKey, ResourceType>();
    for (const t of [...this.builtin.values(), ...this.customTypes()]) if (!seen.has(t.storage)) seen.set(t.storage, t);
    return [...seen.values()];
  }

  /** Serves (or replaces) the resources of a CRD. */
  setCustom(crd: string, types: ResourceType[]): void {
    this.custom.set(crd, types);
  }

  /** Stops serving the resources of a CRD. */
  removeCustom(crd: string): void {
    this.custom.delete(crd);
  }

  /** The resources served for CRDs, in CRD name order. */
  customTypes(): ResourceType[] {
    return [...this.custom.keys()].sort().flatMap((k) => this.custom.get(k) ?? []);
  }
}
