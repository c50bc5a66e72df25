/**
 * The type model server-side apply works on, as structured-merge-diff has it: scalars, maps
 * (structs are maps with declared fields), lists (atomic, sets, or maps keyed by some of their
 * items' fields) and untyped values. Built-in types come from /openapi/v2, custom resources
 * from their CRD's schema.
 */

/** The scalar kinds structured-merge-diff checks. */
export type ScalarKind = "string" | "numeric" | "boolean";

/** A node of the type model. */
export type TypeNode =
  | { readonly kind: "scalar"; readonly scalar: ScalarKind }
  | {
      readonly kind: "map";
      /** Declared fields of a struct; absent for plain maps. */
      readonly fields?: ReadonlyMap<string, TypeRef>;
      /** The type of undeclared keys; absent for structs that allow no other keys. */
      readonly element?: TypeRef;
      /** Atomic maps are owned and replaced as one value. */
      readonly atomic: boolean;
      /** Defaults of fields that serve as list-map keys (ContainerPort.protocol "TCP"). */
      readonly keyDefaults?: ReadonlyMap<string, unknown>;
    }
  | {
      readonly kind: "list";
      readonly element: TypeRef;
      /** atomic: replaced as one value; set: items are scalars; map: items keyed by `keys`. */
      readonly relationship: "atomic" | "set" | "map";
      readonly keys: readonly string[];
    }
  /**
   * Any value. Atomic for int-or-string, quantities and raw JSON; "deduced" (maps granular,
   * lists atomic) for x-kubernetes-preserve-unknown-fields. `quantity` marks resource.Quantity,
   * which the server stores in canonical form.
   */
  | { readonly kind: "untyped"; readonly atomic: boolean; readonly quantity?: true };

/** A type, or a reference to a named OpenAPI definition. */
export type TypeRef = TypeNode | { readonly ref: string };

/** Resolves references to named definitions. */
export interface TypeResolver {
  resolve(ref: TypeRef): TypeNode;
}

/** The deduced type of x-kubernetes-preserve-unknown-fields values. */
export const deducedType: TypeNode = { kind: "untyped", atomic: false };
/** The atomic untyped type of int-or-string and raw JSON values. */
export const atomicUntyped: TypeNode = { kind: "untyped", atomic: true };
/** resource.Quantity: a string or a number, stored as a canonical string. */
export const quantityType: TypeNode = { kind: "untyped", atomic: true, quantity: true };

/** The declared type of `key` in a map node, or its element type, or undefined when undeclared. */
export function fieldType(node: TypeNode & { kind: "map" }, key: string): TypeRef | undefined {
  return node.fields?.get(key) ?? node.element;
}

/** The effective node for a value of an untyped type: deduced maps are granular, lists atomic. */
export function deduceNode(node: TypeNode, value: unknown): TypeNode {
  if (node.kind !== "untyped") return node;
  if (node.atomic) return node;
  if (Array.isArray(value)) return { kind: "list", element: deducedType, relationship: "atomic", keys: [] };
  if (typeof value === "object" && value !== null) return { kind: "map", element: deducedType, atomic: false };
  return node;
}
