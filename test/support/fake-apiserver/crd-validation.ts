import type { FieldError } from "./errors.ts";
import { fieldError } from "./errors.ts";
import type { JsonObject } from "./values.ts";
import { deepEqual, goValue, isObject, jsonTypeName, objectAt } from "./values.ts";

/**
 * Validates a custom resource against its CRD's openAPIV3Schema as the apiextensions server
 * does (types, required, enum, bounds, lengths, patterns), with go-openapi's messages. Only
 * spec, status and other non-metadata fields are checked.
 */
export function validateCustom(schema: JsonObject, obj: JsonObject): FieldError[] {
  const errors: FieldError[] = [];
  const props = objectAt(schema, "properties") ?? {};
  for (const key of Object.keys(obj)) {
    if (key === "apiVersion" || key === "kind" || key === "metadata") continue;
    const prop = props[key];
    if (isObject(prop)) check(prop, obj[key], key, errors);
  }
  for (const key of requiredOf(schema)) if (!Object.hasOwn(obj, key)) errors.push(fieldError.required(key));
  return errors;
}

function requiredOf(schema: JsonObject): string[] {
  return Array.isArray(schema["required"]) ? schema["required"].map(String) : [];
}

function check(schema: JsonObject, value: unknown, path: string, errors: FieldError[], itemOf?: string): void {
  if (value === null) {
    if (schema["nullable"] !== true && schema["type"] !== undefined) typeError(schema, value, itemOf ?? path, errors);
    return;
  }
  if (!typeMatches(schema, value)) return typeError(schema, value, itemOf ?? path, errors);
  if (Array.isArray(schema["enum"]) && !schema["enum"].some((e) => deepEqual(e, value))) {
    errors.push(fieldError.notSupported(path, goValue(value), schema["enum"].map(goValue)));
  }
  if (typeof value === "number") checkNumber(schema, value, path, errors);
  if (typeof value === "string") checkString(schema, value, path, errors);
  if (isObject(value)) {
    for (const key of requiredOf(schema)) if (!Object.hasOwn(value, key)) errors.push(fieldError.required(`${path}.${key}`));
    const props = objectAt(schema, "properties");
    const extra = schema["additionalProperties"];
    for (const [key, child] of Object.entries(value)) {
      const prop = props?.[key] ?? (isObject(extra) ? extra : undefined);
      if (isObject(prop)) check(prop, child, `${path}.${key}`, errors);
    }
  }
  if (Array.isArray(value) && isObject(schema["items"])) {
    const items = schema["items"];
    value.forEach((item, i) => check(items, item, `${path}[${i}]`, errors, path));
    if (typeof schema["maxItems"] === "number" && value.length > schema["maxItems"]) {
      errors.push({ type: "FieldValueInvalid", field: path, message: `Too many: ${value.length}: must have at most ${schema["maxItems"]} items` });
    }
  }
}

function typeMatches(schema: JsonObject, value: unknown): boolean {
  if (schema["x-kubernetes-int-or-string"] === true) return typeof value === "number" || typeof value === "string";
  switch (schema["type"]) {
    case "integer":
      return typeof value === "number" && Number.isInteger(value);
    case "number":
      return typeof value === "number";
    case "string":
      return typeof value === "string";
    case "boolean":
      return typeof value === "boolean";
    case "array":
      return Array.isArray(value);
    case "object":
      return isObject(value);
    default:
      return true;
  }
}

function typeError(schema: JsonObject, value: unknown, path: string, errors: FieldError[]): void {
  const actual = jsonTypeName(value);
  const expected = String(schema["type"]);
  errors.push(fieldError.invalid(path, JSON.stringify(actual), `${path} in body must be of type ${expected}: ${JSON.stringify(actual)}`));
}

function checkNumber(schema: JsonObject, value: number, path: string, errors: FieldError[]): void {
  const max = schema["maximum"];
  const min = schema["minimum"];
  if (typeof max === "number" && (schema["exclusiveMaximum"] === true ? value >= max : value > max)) {
    const rel = schema["exclusiveMaximum"] === true ? "less than" : "less than or equal to";
    errors.push(fieldError.invalid(path, String(value), `${path} in body should be ${rel} ${max}`));
  }
  if (typeof min === "number" && (schema["exclusiveMinimum"] === true ? value <= min : value < min)) {
    const rel = schema["exclusiveMinimum"] === true ? "greater than" : "greater than or equal to";
    errors.push(fieldError.invalid(path, String(value), `${path} in body should be ${rel} ${min}`));
  }
}

function checkString(schema: JsonObject, value: string, path: string, errors: FieldError[]): void {
  const quoted = JSON.stringify(value);
  if (typeof schema["maxLength"] === "number" && value.length > schema["maxLength"]) {
    errors.push(fieldError.invalid(path, quoted, `${path} in body should be at most ${schema["maxLength"]} chars long`));
  }
  if (typeof schema["minLength"] === "number" && value.length < schema["minLength"]) {
    errors.push(fieldError.invalid(path, quoted, `${path} in body should be at least ${schema["minLength"]} chars long`));
  }
  if (typeof schema["pattern"] === "string" && !new RegExp(schema["pattern"], "u").test(value)) {
    errors.push(fieldError.invalid(path, quoted, `${path} in body should match '${schema["pattern"]}'`));
  }
}

/** A copy without the fields the schema does not declare (unless it preserves unknown fields). */
export function pruneUnknown(schema: JsonObject, value: unknown, root = true): unknown {
  if (schema["x-kubernetes-preserve-unknown-fields"] === true && objectAt(schema, "properties") === undefined) return value;
  if (isObject(value)) {
    const props = objectAt(schema, "properties");
    const extra = schema["additionalProperties"];
    const preserve = schema["x-kubernetes-preserve-unknown-fields"] === true;
    const out: JsonObject = {};
    for (const [key, child] of Object.entries(value)) {
      if (root && (key === "apiVersion" || key === "kind" || key === "metadata")) {
        out[key] = child;
        continue;
      }
      const prop = props?.[key] ?? (isObject(extra) ? extra : undefined);
      if (isObject(prop)) out[key] = pruneUnknown(prop, child, false);
      else if (preserve || extra === true) out[key] = child;
    }
    return out;
  }
  if (Array.isArray(value) && isObject(schema["items"])) {
    const items = schema["items"];
    return value.map((item) => pruneUnknown(items, item, false));
  }
  return value;
}
