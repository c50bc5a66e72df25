import { ApiError, badRequest } from "./errors.ts";
import type { TypeRef, TypeResolver } from "./type-model.ts";
import type { JsonObject } from "./values.ts";
import { clone, deepEqual, isObject } from "./values.ts";

/** RFC 7386 JSON merge patch: objects merge, null deletes, anything else replaces. */
export function jsonMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = jsonMergePatch(out[key], value);
  }
  return out;
}

/**
 * A strategic merge patch on a built-in object: like a merge patch, but lists with a patch merge
 * key merge by that key (`$patch: delete` removes an item), primitive merge lists take the
 * union, and `$patch: replace`, `$retainKeys` and `$deleteFromPrimitiveList/<field>` are honoured.
 */
export function strategicMergePatch(types: TypeResolver, root: TypeRef, target: unknown, patch: unknown): unknown {
  return smp(types, root, target, patch);
}

function smp(types: TypeResolver, ref: TypeRef | undefined, target: unknown, patch: unknown): unknown {
  const node = ref === undefined ? undefined : types.resolve(ref);
  if (isObject(patch)) {
    if (patch["$patch"] === "replace") {
      const { $patch: _p, ...rest } = patch;
      return clone(rest);
    }
    if (patch["$patch"] === "delete") return undefined;
    const out: JsonObject = isObject(target) ? clone(target) : {};
    for (const [key, value] of Object.entries(patch)) {
      if (key.startsWith("$setElementOrder/") || key === "$patch") continue;
      if (key === "$retainKeys" && Array.isArray(value)) {
        for (const k of Object.keys(out)) if (!value.includes(k) && !Object.hasOwn(patch, k)) delete out[k];
        continue;
      }
      if (key.startsWith("$deleteFromPrimitiveList/") && Array.isArray(value)) {
        const field = key.slice("$deleteFromPrimitiveList/".length);
        const list = out[field];
        if (Array.isArray(list)) out[field] = list.filter((v) => !value.some((d) => deepEqual(d, v)));
        continue;
      }
      if (value === null) {
        delete out[key];
        continue;
      }
      const child = node?.kind === "map" ? (node.fields?.get(key) ?? node.element) : undefined;
      const merged = smp(types, child, out[key], value);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    }
    return out;
  }
  if (Array.isArray(patch) && node?.kind === "list" && Array.isArray(target)) {
    if (node.relationship === "set") return [...target, ...patch.filter((v) => !target.some((t) => deepEqual(t, v)))];
    if (node.relationship === "map" && node.keys.length > 0) return mergeByKey(types, node.element, node.keys[0] ?? "", target, patch);
  }
  return clone(patch);
}

function mergeByKey(types: TypeResolver, element: TypeRef, key: string, target: unknown[], patch: unknown[]): unknown[] {
  const out = clone(target);
  for (const item of patch) {
    if (!isObject(item)) continue;
    const index = out.findIndex((t) => isObject(t) && deepEqual(t[key], item[key]));
    if (item["$patch"] === "delete") {
      if (index >= 0) out.splice(index, 1);
      continue;
    }
    if (index >= 0) out[index] = smp(types, element, out[index], item);
    else out.push(smp(types, element, undefined, item));
  }
  return out;
}

// JSON patch errors all come back as this generic 422, as the API server reports them.
function patchRejected(): ApiError {
  return new ApiError({ code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request", details: {} });
}

/** RFC 6902 JSON patch; a failed `test` or a bad path is the API server's generic 422. */
export function jsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw badRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
  let doc = clone(target);
  for (const op of operations) {
    if (!isObject(op) || typeof op["path"] !== "string") throw patchRejected();
    const path = parsePointer(op["path"]);
    switch (op["op"]) {
      case "add":
        doc = put(doc, path, clone(op["value"]), "add");
        break;
      case "replace":
        doc = put(doc, path, clone(op["value"]), "replace");
        break;
      case "remove":
        doc = removeAt(doc, path);
        break;
      case "test":
        if (!deepEqual(getAt(doc, path), op["value"])) throw patchRejected();
        break;
      case "move":
      case "copy": {
        if (typeof op["from"] !== "string") throw patchRejected();
        const from = parsePointer(op["from"]);
        const value = clone(getAt(doc, from));
        if (value === undefined) throw patchRejected();
        if (op["op"] === "move") doc = removeAt(doc, from);
        doc = put(doc, path, value, "add");
        break;
      }
      default:
        throw patchRejected();
    }
  }
  return doc;
}

function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw patchRejected();
  return pointer.slice(1).split("/").map((p) => p.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function getAt(doc: unknown, path: readonly string[]): unknown {
  let node = doc;
  for (const part of path) {
    if (Array.isArray(node)) node = node[Number(part)];
    else if (isObject(node)) node = node[part];
    else return undefined;
  }
  return node;
}

function put(doc: unknown, path: readonly string[], value: unknown, mode: "add" | "replace"): unknown {
  if (path.length === 0) return value;
  const parent = getAt(doc, path.slice(0, -1));
  const last = path.at(-1) ?? "";
  if (Array.isArray(parent)) {
    const index = last === "-" ? parent.length : Number(last);
    if (!Number.isInteger(index) || index < 0 || index > parent.length || (mode === "replace" && index >= parent.length)) throw patchRejected();
    parent.splice(index, mode === "replace" ? 1 : 0, value);
  } else if (isObject(parent)) {
    if (mode === "replace" && !Object.hasOwn(parent, last)) throw patchRejected();
    parent[last] = value;
  } else {
    throw patchRejected();
  }
  return doc;
}

function removeAt(doc: unknown, path: readonly string[]): unknown {
  const parent = getAt(doc, path.slice(0, -1));
  const last = path.at(-1) ?? "";
  if (Array.isArray(parent) && Number(last) < parent.length) parent.splice(Number(last), 1);
  else if (isObject(parent) && Object.hasOwn(parent, last)) delete parent[last];
  else throw patchRejected();
  return doc;
}
