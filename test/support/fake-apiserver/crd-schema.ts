import { createHash } from "node:crypto";
import type { FieldError } from "./errors.ts";
import { fieldError } from "./errors.ts";
import { objectMetaRef } from "./openapi-types.ts";
import type { ResourceType } from "./resources.ts";
import { storageKey } from "./store.ts";
import type { TypeNode, TypeRef } from "./type-model.ts";
import { atomicUntyped, deducedType } from "./type-model.ts";
import type { JsonObject } from "./values.ts";
import { isObject, objectAt, stringAt } from "./values.ts";

/** The served versions of a CRD, each with its schema and whether it has a status subresource. */
export interface CrdVersion {
  readonly name: string;
  readonly schema: JsonObject;
  readonly status: boolean;
  readonly scale: boolean;
}

/** The parts of a CRD the fake serves custom resources from. */
export interface CrdInfo {
  readonly name: string;
  readonly group: string;
  readonly plural: string;
  readonly singular: string;
  readonly kind: string;
  readonly listKind: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly versions: readonly CrdVersion[];
}

/** Reads a CustomResourceDefinition object. */
export function crdInfo(crd: JsonObject): CrdInfo {
  const spec = objectAt(crd, "spec") ?? {};
  const names = objectAt(spec, "names") ?? {};
  const kind = stringAt(names, "kind") ?? "";
  const strings = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
  const versions = (Array.isArray(spec["versions"]) ? spec["versions"] : []).filter(isObject).filter((v) => v["served"] !== false);
  return {
    name: stringAt(objectAt(crd, "metadata"), "name") ?? "",
    group: stringAt(spec, "group") ?? "",
    plural: stringAt(names, "plural") ?? "",
    singular: stringAt(names, "singular") ?? kind.toLowerCase(),
    kind,
    listKind: stringAt(names, "listKind") ?? `${kind}List`,
    namespaced: spec["scope"] !== "Cluster",
    shortNames: strings(names["shortNames"]),
    categories: strings(names["categories"]),
    versions: versions.map((v) => ({
      name: String(v["name"]),
      schema: objectAt(objectAt(v, "schema"), "openAPIV3Schema") ?? { type: "object", "x-kubernetes-preserve-unknown-fields": true },
      status: isObject(objectAt(v, "subresources")?.["status"]),
      scale: isObject(objectAt(v, "subresources")?.["scale"]),
    })),
  };
}

/** The resource types a CRD serves, one per served version. */
export function crdResourceTypes(info: CrdInfo): ResourceType[] {
  return info.versions.map((v) => ({
    group: info.group,
    version: v.name,
    resource: info.plural,
    kind: info.kind,
    namespaced: info.namespaced,
    verbs: ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"],
    subresources: new Set([...(v.status ? ["status"] : []), ...(v.scale ? ["scale"] : [])]),
    singularName: info.singular,
    shortNames: info.shortNames,
    crd: info.name,
    storage: storageKey(info.group, info.plural),
  }));
}

/** The discovery entries of a CRD at one version, as /apis/<group>/<version> lists them. */
export function crdDiscoveryEntries(info: CrdInfo, version: CrdVersion): Record<string, unknown>[] {
  const hash = createHash("sha256").update(`${info.group}/${version.name}/${info.kind}`).digest().subarray(0, 8).toString("base64");
  const main: Record<string, unknown> = {
    name: info.plural,
    singularName: info.singular,
    namespaced: info.namespaced,
    kind: info.kind,
    verbs: ["delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"],
    ...(info.shortNames.length > 0 ? { shortNames: info.shortNames } : {}),
    ...(info.categories.length > 0 ? { categories: info.categories } : {}),
    storageVersionHash: hash,
  };
  const subs: Record<string, unknown>[] = [];
  const sub = (name: string, kind: string, group?: string, ver?: string) => ({
    name: `${info.plural}/${name}`,
    singularName: "",
    namespaced: info.namespaced,
    ...(group === undefined ? {} : { group, version: ver }),
    kind,
    verbs: ["get", "patch", "update"],
  });
  if (version.status) subs.push(sub("status", info.kind));
  if (version.scale) subs.push(sub("scale", "Scale", "autoscaling", "v1"));
  return [main, ...subs];
}

/** The root type of custom resources of one CRD version: apiVersion, kind, ObjectMeta and the schema. */
export function customResourceType(version: CrdVersion): TypeRef {
  const converted = convert(version.schema);
  const node: TypeNode = converted.kind === "untyped" ? { kind: "map", element: converted, atomic: false } : converted;
  if (node.kind !== "map") return node;
  const fields = new Map(node.fields ?? []);
  fields.set("apiVersion", { kind: "scalar", scalar: "string" });
  fields.set("kind", { kind: "scalar", scalar: "string" });
  fields.set("metadata", objectMetaRef);
  return { ...node, fields };
}

function convert(schema: JsonObject): TypeNode {
  if (schema["x-kubernetes-int-or-string"] === true) return atomicUntyped;
  const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true;
  const props = objectAt(schema, "properties");
  const extra = schema["additionalProperties"];
  const type = schema["type"];
  if (type === "object" || props !== undefined || isObject(extra) || (preserve && type === undefined)) {
    if (props === undefined && !isObject(extra) && (preserve || extra === true)) return deducedType;
    const fields = new Map<string, TypeRef>();
    for (const [name, prop] of Object.entries(props ?? {})) if (isObject(prop)) fields.set(name, convert(prop));
    if (schema["x-kubernetes-embedded-resource"] === true) {
      fields.set("apiVersion", { kind: "scalar", scalar: "string" });
      fields.set("kind", { kind: "scalar", scalar: "string" });
      fields.set("metadata", objectMetaRef);
    }
    const element = isObject(extra) ? convert(extra) : preserve || extra === true ? deducedType : undefined;
    return { kind: "map", fields, ...(element === undefined ? {} : { element }), atomic: schema["x-kubernetes-map-type"] === "atomic" };
  }
  if (type === "array") {
    const items = isObject(schema["items"]) ? convert(schema["items"]) : atomicUntyped;
    const listType = schema["x-kubernetes-list-type"];
    if (listType === "map") {
      const keys = Array.isArray(schema["x-kubernetes-list-map-keys"]) ? schema["x-kubernetes-list-map-keys"].map(String) : [];
      return { kind: "list", element: items, relationship: "map", keys };
    }
    return { kind: "list", element: items, relationship: listType === "set" ? "set" : "atomic", keys: [] };
  }
  if (type === "integer" || type === "number") return { kind: "scalar", scalar: "numeric" };
  if (type === "boolean") return { kind: "scalar", scalar: "boolean" };
  if (type === "string") return { kind: "scalar", scalar: "string" };
  return preserve ? deducedType : atomicUntyped;
}

/** The structural-schema and naming errors of a CRD (a 422 when creating or updating it). */
export function crdErrors(crd: JsonObject): FieldError[] {
  const info = crdInfo(crd);
  const errors: FieldError[] = [];
  if (info.name !== `${info.plural}.${info.group}`) {
    errors.push(fieldError.invalid("metadata.name", JSON.stringify(info.name), 'must be spec.names.plural+"."+spec.group'));
  }
  for (const v of info.versions) structural(v.schema, "spec.validation.openAPIV3Schema", errors, true);
  return errors;
}

function structural(schema: JsonObject, path: string, errors: FieldError[], root: boolean): void {
  const special = schema["x-kubernetes-int-or-string"] === true || schema["x-kubernetes-preserve-unknown-fields"] === true;
  if (schema["type"] === undefined && !special) {
    if (root) errors.push(fieldError.required(`${path}.type`, "must not be empty at the root"));
    else if (isObject(schema["properties"])) errors.push(fieldError.required(`${path}.type`, "must not be empty for specified object fields"));
    else if (isObject(schema["items"])) errors.push(fieldError.required(`${path}.type`, "must not be empty for specified array items"));
  }
  for (const [name, prop] of Object.entries(objectAt(schema, "properties") ?? {})) {
    if (isObject(prop)) structural(prop, `${path}.properties[${name}]`, errors, false);
  }
  if (isObject(schema["items"])) structural(schema["items"], `${path}.items`, errors, false);
  if (isObject(schema["additionalProperties"])) structural(schema["additionalProperties"], `${path}.additionalProperties`, errors, false);
}
