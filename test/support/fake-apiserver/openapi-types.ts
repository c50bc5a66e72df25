import type { TypeNode, TypeRef, TypeResolver } from "./type-model.ts";
import { atomicUntyped, deducedType, quantityType } from "./type-model.ts";
import type { JsonObject } from "./values.ts";
import { isObject } from "./values.ts";

/** The definition name of ObjectMeta, which custom resources reuse. */
export const objectMetaRef = { ref: "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" } as const;

// List-map key fields the API server defaults before computing keys (+default markers that
// /openapi/v2 does not show): a port without protocol is keyed as TCP.
const keyDefaults: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  "io.k8s.api.core.v1.ContainerPort": { protocol: "TCP" },
  "io.k8s.api.core.v1.ServicePort": { protocol: "TCP" },
  "io.k8s.api.core.v1.EndpointPort": { protocol: "TCP" },
};

// Typed "string" in /openapi/v2, but accepts numbers as well, and is stored canonical.
const quantityDefinition = "io.k8s.apimachinery.pkg.api.resource.Quantity";

/**
 * The types of the built-in kinds, converted lazily from the /openapi/v2 definitions the way
 * kube-openapi's schemaconv does (patch strategies give list keys; lists are atomic by default).
 */
export class OpenApiTypes implements TypeResolver {
  private readonly definitions: Readonly<Record<string, JsonObject>>;
  private readonly converted = new Map<string, TypeNode>();
  private readonly byGvk = new Map<string, string>();

  constructor(document: unknown) {
    const defs = isObject(document) && isObject(document["definitions"]) ? document["definitions"] : {};
    this.definitions = defs as Record<string, JsonObject>;
    for (const [name, def] of Object.entries(this.definitions)) {
      const gvks = def["x-kubernetes-group-version-kind"];
      if (!Array.isArray(gvks) || name.startsWith("com.")) continue;
      for (const gvk of gvks as { group?: string; version?: string; kind?: string }[]) {
        this.byGvk.set(gvkKey(gvk.group ?? "", gvk.version ?? "", gvk.kind ?? ""), name);
      }
    }
  }

  /** The root type of a built-in kind, or undefined when /openapi/v2 does not declare it. */
  kindType(group: string, version: string, kind: string): TypeRef | undefined {
    const name = this.byGvk.get(gvkKey(group, version, kind));
    return name === undefined ? undefined : { ref: name };
  }

  resolve(ref: TypeRef): TypeNode {
    if (!("ref" in ref)) return ref;
    const done = this.converted.get(ref.ref);
    if (done !== undefined) return done;
    const def = this.definitions[ref.ref];
    const node = def === undefined ? atomicUntyped : this.convert(def, ref.ref);
    this.converted.set(ref.ref, node);
    return node;
  }

  private convert(schema: JsonObject, name?: string): TypeNode {
    const ref = schema["$ref"];
    if (typeof ref === "string") return this.resolve({ ref: ref.replace("#/definitions/", "") });
    const type = schema["type"];
    if (name === quantityDefinition) return quantityType;
    if (type === "object" || isObject(schema["properties"]) || isObject(schema["additionalProperties"])) {
      return this.convertObject(schema, name);
    }
    if (type === "array") return this.convertArray(schema);
    if (type === "integer" || type === "number") return { kind: "scalar", scalar: "numeric" };
    if (type === "boolean") return { kind: "scalar", scalar: "boolean" };
    if (type === "string") {
      const format = schema["format"];
      const plain = format === undefined || format === "" || format === "byte" || format === "date-time";
      return plain ? { kind: "scalar", scalar: "string" } : atomicUntyped;
    }
    return atomicUntyped;
  }

  private convertObject(schema: JsonObject, name?: string): TypeNode {
    const props = isObject(schema["properties"]) ? schema["properties"] : undefined;
    const extra = schema["additionalProperties"];
    const atomic = schema["x-kubernetes-map-type"] === "atomic";
    if (props === undefined && !isObject(extra)) return extra === false ? { kind: "map", atomic } : deducedType;
    const fields = new Map<string, TypeRef>();
    for (const [field, prop] of Object.entries(props ?? {})) {
      if (isObject(prop)) fields.set(field, this.propertyType(prop));
    }
    const defaults = name === undefined ? undefined : keyDefaults[name];
    return {
      kind: "map",
      fields,
      ...(isObject(extra) ? { element: this.propertyType(extra) } : {}),
      atomic,
      ...(defaults === undefined ? {} : { keyDefaults: new Map(Object.entries(defaults)) }),
    };
  }

  private propertyType(prop: JsonObject): TypeRef {
    const ref = prop["$ref"];
    if (typeof ref === "string") return { ref: ref.replace("#/definitions/", "") };
    return this.convert(prop);
  }

  private convertArray(schema: JsonObject): TypeNode {
    const items = isObject(schema["items"]) ? this.propertyType(schema["items"]) : atomicUntyped;
    const listType = schema["x-kubernetes-list-type"];
    const strategy = schema["x-kubernetes-patch-strategy"];
    if (listType === "map") {
      const keys = schema["x-kubernetes-list-map-keys"];
      return { kind: "list", element: items, relationship: "map", keys: Array.isArray(keys) ? keys.map(String) : [] };
    }
    if (listType === "set") return { kind: "list", element: items, relationship: "set", keys: [] };
    if (listType === undefined && typeof strategy === "string" && strategy.split(",").includes("merge")) {
      const key = schema["x-kubernetes-patch-merge-key"];
      if (typeof key === "string") return { kind: "list", element: items, relationship: "map", keys: [key] };
      return { kind: "list", element: items, relationship: "set", keys: [] };
    }
    return { kind: "list", element: items, relationship: "atomic", keys: [] };
  }
}

function gvkKey(group: string, version: string, kind: string): string {
  return `${group}/${version}/${kind}`;
}
