import { GitwardError } from "../core/errors.ts";
import type { KObject } from "../core/object.ts";
import { isRecord } from "../core/object.ts";
import { splitApiVersion } from "../core/objref.ts";
import type { SchemaIssue, SchemaValidator } from "./schema-offline.ts";
import { formatFieldPath } from "./schema-offline.ts";

/** A Swagger 2.0 schema node, as found under `definitions` of a cluster's /openapi/v2. */
type SchemaNode = Record<string, unknown>;

/** A compiled check: appends to `issues` what is wrong with `value`, found at `path`. */
type Check = (value: unknown, path: (string | number)[], issues: SchemaIssue[]) => void;

const quantityPattern = /^[+-]?(?:\d+|\d+\.\d*|\.\d+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/;
const anything: Check = () => {};

// Kubernetes decodes null as "not set", so null passes every type.
const typeTests: Readonly<Record<string, (v: unknown) => boolean>> = {
  string: (v) => typeof v === "string",
  integer: (v) => Number.isInteger(v),
  number: (v) => typeof v === "number" && Number.isFinite(v),
  boolean: (v) => typeof v === "boolean",
  object: isRecord,
  array: Array.isArray,
};

// Definitions whose JSON form the schema does not describe (custom marshalling in Go).
const specialDefinitions: Readonly<Record<string, Check>> = {
  "io.k8s.apimachinery.pkg.api.resource.Quantity": (v, path, issues) => {
    if (typeof v === "number" || v === null) return;
    if (typeof v !== "string" || !quantityPattern.test(v)) {
      issues.push(issue(path, `must be a quantity such as "500m" or "1Gi", or a number`));
    }
  },
  "io.k8s.apimachinery.pkg.util.intstr.IntOrString": intOrString,
  "io.k8s.apimachinery.pkg.apis.meta.v1.Time": typeCheck("string"),
  "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime": typeCheck("string"),
  "io.k8s.apimachinery.pkg.runtime.RawExtension": anything,
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON": anything,
  "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1beta1.JSON": anything,
};

/**
 * A validator over a cluster's OpenAPI v2 document. It knows every kind the cluster serves,
 * custom resources included, and, like server-side apply, treats unknown fields as errors.
 * Each definition is compiled the first time it is needed. Top-level `status` is not checked:
 * the API server ignores it on apply, so a desired object carrying it is harmless.
 */
export function createOpenApiValidator(doc: unknown, name: string): SchemaValidator {
  const definitions = isRecord(doc) && isRecord(doc["definitions"]) ? doc["definitions"] : undefined;
  if (definitions === undefined) {
    throw new GitwardError("cluster", `${name}: the OpenAPI v2 document has no definitions`);
  }
  const compiled = new Map<string, Check>();
  let byGvk: Map<string, string> | undefined;

  const definitionCheck = (ref: string): Check => {
    let check = compiled.get(ref);
    if (check === undefined) {
      const node = definitions[ref];
      check = specialDefinitions[ref] ?? (isRecord(node) ? compile(node, refCheck) : anything);
      compiled.set(ref, check);
    }
    return check;
  };
  // Resolved on first use, so recursive definitions (JSONSchemaProps) compile.
  const refCheck = (ref: string): Check => {
    let resolved: Check | undefined;
    return (v, path, issues) => (resolved ??= definitionCheck(ref))(v, path, issues);
  };

  return {
    name,
    validate(obj: KObject): Promise<SchemaIssue[] | undefined> {
      const apiVersion = obj["apiVersion"];
      const kind = obj["kind"];
      if (typeof apiVersion !== "string" || typeof kind !== "string") return Promise.resolve(undefined);
      byGvk ??= indexByGvk(definitions);
      const { group, version } = splitApiVersion(apiVersion);
      const ref = byGvk.get(`${group}/${version}/${kind}`);
      if (ref === undefined) return Promise.resolve(undefined);
      const { status: _ignored, ...desired } = obj;
      const issues: SchemaIssue[] = [];
      definitionCheck(ref)(desired, [], issues);
      return Promise.resolve(issues);
    },
  };
}

function indexByGvk(definitions: Record<string, unknown>): Map<string, string> {
  const index = new Map<string, string>();
  for (const [ref, node] of Object.entries(definitions)) {
    const gvks = isRecord(node) ? node["x-kubernetes-group-version-kind"] : undefined;
    if (!Array.isArray(gvks)) continue;
    for (const gvk of gvks) {
      if (!isRecord(gvk)) continue;
      const { group = "", version, kind } = gvk;
      if (typeof group !== "string" || typeof version !== "string" || typeof kind !== "string") continue;
      const key = `${group}/${version}/${kind}`;
      if (!index.has(key)) index.set(key, ref);
    }
  }
  return index;
}

function compile(node: SchemaNode, refCheck: (ref: string) => Check): Check {
  const ref = node["$ref"];
  if (typeof ref === "string") return refCheck(ref.replace(/^#\/definitions\//, ""));
  const checks: Check[] = [];
  if (Array.isArray(node["allOf"])) {
    for (const part of node["allOf"]) if (isRecord(part)) checks.push(compile(part, refCheck));
  }
  checks.push(compileOwn(node, refCheck));
  const constraints = compileConstraints(node);
  if (constraints !== undefined) checks.push(constraints);
  if (checks.length === 1 && checks[0] !== undefined) return checks[0];
  return (v, path, issues) => {
    for (const check of checks) check(v, path, issues);
  };
}

function compileOwn(node: SchemaNode, refCheck: (ref: string) => Check): Check {
  if (node["x-kubernetes-int-or-string"] === true || node["format"] === "int-or-string") return intOrString;
  const type = node["type"];
  const preserve = node["x-kubernetes-preserve-unknown-fields"] === true;
  if (type === "object" || (type === undefined && (isRecord(node["properties"]) || isRecord(node["additionalProperties"])))) {
    return compileObject(node, refCheck, preserve);
  }
  if (type === "array") {
    const items = isRecord(node["items"]) ? compile(node["items"], refCheck) : anything;
    return (v, path, issues) => {
      if (v === null) return;
      if (!Array.isArray(v)) return void issues.push(issue(path, "must be array"));
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        items(v[i], path, issues);
        path.pop();
      }
    };
  }
  if (typeof type === "string") return typeCheck(type);
  return anything;
}

function compileObject(node: SchemaNode, refCheck: (ref: string) => Check, preserve: boolean): Check {
  const props = new Map<string, Check>();
  if (isRecord(node["properties"])) {
    for (const [key, sub] of Object.entries(node["properties"])) {
      if (isRecord(sub)) props.set(key, compile(sub, refCheck));
    }
  }
  const additional = node["additionalProperties"];
  const extra: Check | undefined = isRecord(additional) ? compile(additional, refCheck) : undefined;
  // An object without declared properties (FieldsV1, free-form maps) takes any keys.
  const open = preserve || additional === true || (props.size === 0 && extra === undefined);
  const required = Array.isArray(node["required"]) ? node["required"].filter((r) => typeof r === "string") : [];
  return (v, path, issues) => {
    if (v === null) return;
    if (!isRecord(v)) return void issues.push(issue(path, "must be object"));
    for (const key of required) {
      if (v[key] === undefined) issues.push(issue([...path, key], `required field "${key}" is missing`));
    }
    for (const key of Object.keys(v)) {
      const check = props.get(key) ?? extra;
      path.push(key);
      if (check !== undefined) check(v[key], path, issues);
      else if (!open) issues.push(issue(path, `unknown field "${key}"`));
      path.pop();
    }
  };
}

function compileConstraints(node: SchemaNode): Check | undefined {
  const enumValues = Array.isArray(node["enum"]) ? node["enum"] : undefined;
  const min = typeof node["minimum"] === "number" ? node["minimum"] : undefined;
  const max = typeof node["maximum"] === "number" ? node["maximum"] : undefined;
  if (enumValues === undefined && min === undefined && max === undefined) return undefined;
  const allowed = enumValues?.map((e) => JSON.stringify(e)).join(", ");
  return (v, path, issues) => {
    if (v === null || v === undefined) return;
    if (enumValues !== undefined && !enumValues.includes(v)) issues.push(issue(path, `must be one of ${allowed}`));
    if (typeof v !== "number") return;
    if (min !== undefined && (node["exclusiveMinimum"] === true ? v <= min : v < min)) {
      issues.push(issue(path, `must be ${node["exclusiveMinimum"] === true ? ">" : ">="} ${min}`));
    }
    if (max !== undefined && (node["exclusiveMaximum"] === true ? v >= max : v > max)) {
      issues.push(issue(path, `must be ${node["exclusiveMaximum"] === true ? "<" : "<="} ${max}`));
    }
  };
}

function typeCheck(type: string): Check {
  const ok = typeTests[type];
  if (ok === undefined) return anything;
  return (v, path, issues) => {
    if (v !== null && !ok(v)) issues.push(issue(path, `must be ${type}`));
  };
}

function intOrString(v: unknown, path: (string | number)[], issues: SchemaIssue[]): void {
  if (v !== null && typeof v !== "string" && !Number.isInteger(v)) {
    issues.push(issue(path, "must be string or integer"));
  }
}

function issue(path: readonly (string | number)[], message: string): SchemaIssue {
  return { field: formatFieldPath(path), message };
}
