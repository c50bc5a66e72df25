import { access } from "node:fs/promises";
import type { KObject } from "../core/object.ts";
import { splitApiVersion } from "../core/objref.ts";

/** One schema violation in one object. */
export interface SchemaIssue {
  /** Where, in the `a.b[0].c` form, e.g. `spec.template.spec.containers[0].image`. */
  readonly field: string;
  readonly message: string;
}

/** A schema validator for KRM objects; the offline and the cluster validators both implement it. */
export interface SchemaValidator {
  /** What the schemas come from, e.g. `kubernetes 1.36 (offline)` or `cluster prod (v1.24.0)`. */
  readonly name: string;
  /** The issues found (empty when valid), or undefined when this validator does not know the kind. */
  validate(obj: KObject): Promise<SchemaIssue[] | undefined>;
}

/** One error of an ajv-compiled validator, as kubernetes-models reports them. */
interface AjvError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: Record<string, unknown>;
}

/** An ajv-compiled validate function: returns validity and leaves the errors on itself. */
interface AjvValidate {
  (data: unknown): boolean;
  errors?: AjvError[] | null;
}

/** The Kubernetes version whose schemas the installed kubernetes-models package carries. */
export const offlineKubernetesVersion = "1.36";

// Strict shapes keep user-supplied apiVersion and kind from naming arbitrary modules.
const groupPattern = /^(?:[a-z0-9]([a-z0-9.-]*[a-z0-9])?)?$/;
const versionPattern = /^v[0-9]+(?:(?:alpha|beta)[0-9]+)?$/;
const kindPattern = /^[A-Z][A-Za-z0-9]*$/;

/**
 * A validator of built-in kinds against the schemas compiled into kubernetes-models. Each
 * kind's validator is imported the first time an object of that kind is seen, then cached,
 * so a repository of ten kinds loads ten modules, not eighteen hundred.
 * It does not report unknown fields: the compiled schemas do not reject them.
 */
export function createOfflineValidator(): SchemaValidator {
  const cache = new Map<string, Promise<AjvValidate | undefined>>();
  return {
    name: `kubernetes ${offlineKubernetesVersion} (offline)`,
    async validate(obj: KObject): Promise<SchemaIssue[] | undefined> {
      const apiVersion = obj["apiVersion"];
      const kind = obj["kind"];
      if (typeof apiVersion !== "string" || typeof kind !== "string") return undefined;
      const key = `${apiVersion}|${kind}`;
      let pending = cache.get(key);
      if (pending === undefined) {
        pending = loadValidator(apiVersion, kind);
        cache.set(key, pending);
      }
      const validate = await pending;
      if (validate === undefined) return undefined;
      if (validate(obj)) return [];
      return issuesFromAjv(validate.errors ?? [], obj);
    },
  };
}

async function loadValidator(apiVersion: string, kind: string): Promise<AjvValidate | undefined> {
  const { group, version } = splitApiVersion(apiVersion);
  if (!groupPattern.test(group) || !versionPattern.test(version) || !kindPattern.test(kind)) return undefined;
  const modelUrl = resolveExported(`kubernetes-models/${group === "" ? "" : `${group}/`}${version}/${kind}`);
  if (modelUrl === undefined || !(await exists(modelUrl))) return undefined;
  const model = (await import(modelUrl)) as Record<string, unknown>;
  // Every group version also exports its nested types (DeploymentSpec); only a class carrying
  // the static apiVersion and kind is a kind one can apply.
  const ctor = model[kind] as { apiVersion?: unknown; kind?: unknown } | undefined;
  if (ctor?.apiVersion !== apiVersion || ctor.kind !== kind) return undefined;
  const schema = (await import(`kubernetes-models/_schemas/${schemaModuleName(group, version, kind)}`)) as {
    validate?: AjvValidate;
  };
  return schema.validate;
}

function resolveExported(specifier: string): string | undefined {
  try {
    return import.meta.resolve(specifier);
  } catch (err: unknown) {
    if ((err as { code?: unknown }).code === "ERR_PACKAGE_PATH_NOT_EXPORTED") return undefined;
    throw err;
  }
}

async function exists(url: string): Promise<boolean> {
  try {
    await access(new URL(url));
    return true;
  } catch {
    return false;
  }
}

// The schema modules are named after the OpenAPI definitions (io.k8s.api.apps.v1.Deployment),
// whose package prefix differs from the API group for the core group and two extension servers.
const schemaPrefixes: Readonly<Record<string, string>> = {
  "": "IoK8sApiCore",
  "apiextensions.k8s.io": "IoK8sApiextensionsApiserverPkgApisApiextensions",
  "apiregistration.k8s.io": "IoK8sKubeAggregatorPkgApisApiregistration",
};

function schemaModuleName(group: string, version: string, kind: string): string {
  const prefix = schemaPrefixes[group] ?? `IoK8sApi${capitalize(group.split(".")[0] ?? "")}`;
  return `${prefix}${capitalize(version)}${kind}`;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Formats path segments as `a.b[0].c`; keys that are not plain identifiers become `[key]`. */
export function formatFieldPath(segments: readonly (string | number)[]): string {
  let out = "";
  for (const seg of segments) {
    if (typeof seg === "number") out += `[${seg}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(seg)) out += out === "" ? seg : `.${seg}`;
    else out += `[${seg}]`;
  }
  return out;
}

/** Splits a JSON pointer (`/spec/containers/0`) into segments, numbers where the data holds an array. */
export function pointerSegments(pointer: string, data: unknown): (string | number)[] {
  if (pointer === "") return [];
  const segments: (string | number)[] = [];
  let cur: unknown = data;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(cur)) {
      segments.push(Number(key));
      cur = cur[Number(key)];
    } else {
      segments.push(key);
      cur = typeof cur === "object" && cur !== null ? (cur as Record<string, unknown>)[key] : undefined;
    }
  }
  return segments;
}

function issuesFromAjv(errors: readonly AjvError[], data: unknown): SchemaIssue[] {
  // A failed oneOf (int-or-string, quantity) also reports each branch's failure at the same
  // place; one message naming the accepted forms reads better than three contradicting ones.
  const oneOfPaths = new Set(errors.filter((e) => e.keyword === "oneOf").map((e) => e.instancePath));
  const issues: SchemaIssue[] = [];
  const seen = new Set<string>();
  for (const err of errors) {
    if (err.instancePath === "/status" || err.instancePath.startsWith("/status/")) continue;
    if (oneOfPaths.has(err.instancePath) && err.keyword !== "oneOf") continue;
    const segments = pointerSegments(err.instancePath, data);
    let message: string;
    if (err.keyword === "required") {
      const missing = String(err.params["missingProperty"]);
      segments.push(missing);
      message = `required field "${missing}" is missing`;
    } else if (err.keyword === "oneOf") {
      message = oneOfMessage(errors.filter((e) => e.instancePath === err.instancePath && e.keyword !== "oneOf"));
    } else {
      message = ajvMessage(err);
    }
    const issue = { field: formatFieldPath(segments), message };
    const key = `${issue.field}\0${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(issue);
    }
  }
  return issues;
}

function oneOfMessage(branches: readonly AjvError[]): string {
  if (branches.some((e) => e.keyword === "format" && e.params["format"] === "quantity")) {
    return `must be a quantity such as "500m" or "1Gi", or a number`;
  }
  const types = [...new Set(branches.filter((e) => e.keyword === "type").map((e) => String(e.params["type"])))];
  return types.length > 0 ? `must be ${types.join(" or ")}` : "must match exactly one of the allowed forms";
}

const formatMessages: Readonly<Record<string, string>> = {
  int32: "must be a 32-bit integer",
  int64: "must be a 64-bit integer",
  byte: "must be base64-encoded",
  "date-time": `must be an RFC 3339 date-time such as "2024-01-02T15:04:05Z"`,
  quantity: `must be a quantity such as "500m" or "1Gi"`,
};

function ajvMessage(err: AjvError): string {
  switch (err.keyword) {
    case "type":
      return `must be ${String(err.params["type"])}`;
    case "enum": {
      const allowed = Array.isArray(err.params["allowedValues"]) ? err.params["allowedValues"] : [];
      return `must be one of ${allowed.map((v) => JSON.stringify(v)).join(", ")}`;
    }
    case "format": {
      const format = String(err.params["format"]);
      return formatMessages[format] ?? `must match format "${format}"`;
    }
    default:
      return `fails the "${err.keyword}" rule ${JSON.stringify(err.params)}`;
  }
}
