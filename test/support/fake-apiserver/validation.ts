import type { FieldError } from "./errors.ts";
import { fieldError } from "./errors.ts";
import type { ResourceType } from "./resources.ts";
import type { JsonObject } from "./values.ts";
import { deepEqual, isObject, objectAt } from "./values.ts";

const subdomainMessage =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end " +
  "with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const labelMessage =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an " +
  "alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const dns1035Message =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end " +
  "with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const configKeyMessage =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or " +
  "'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

const subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The validation the fake performs for built-in kinds: object names, ConfigMap/Secret keys and
 * immutability, and the workload checks of Deployments and other apps/v1 controllers.
 */
export function validateBuiltin(r: ResourceType, obj: JsonObject, live: JsonObject | undefined): FieldError[] {
  const errors = validateName(r, obj);
  switch (`${r.group}/${r.kind}`) {
    case "/ConfigMap":
    case "/Secret":
      errors.push(...validateKeys(obj), ...validateImmutable(obj, live));
      break;
    case "apps/Deployment":
    case "apps/ReplicaSet":
    case "apps/DaemonSet":
    case "apps/StatefulSet":
      errors.push(...validateWorkload(obj, live));
      break;
    case "/Service":
      errors.push(...validateServicePorts(obj));
      break;
  }
  return errors;
}

// A Service's targetPort is an int-or-string: a number is a port, a string is a port name, never
// converted to a number ("8080" is 422, 08-normalization/17). validation.IsValidPortName, with its
// messages (the "at least one letter or number" check only looks for a letter).
function validateServicePorts(obj: JsonObject): FieldError[] {
  const ports = objectAt(obj, "spec")?.["ports"];
  const errors: FieldError[] = [];
  (Array.isArray(ports) ? ports : []).forEach((port, i) => {
    const target = isObject(port) ? port["targetPort"] : undefined;
    const field = `spec.ports[${i}].targetPort`;
    if (typeof target === "number" && (target < 0 || target > 65535)) errors.push(fieldError.invalid(field, String(target), "must be between 1 and 65535, inclusive"));
    if (typeof target !== "string") return;
    const problems: string[] = [];
    if (target.length > 15) problems.push("must be no more than 15 characters");
    if (!/^[-a-z0-9]+$/.test(target)) problems.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
    if (!/[a-z]/.test(target)) problems.push("must contain at least one letter or number (a-z, 0-9)");
    if (target.includes("--")) problems.push("must not contain consecutive hyphens");
    if (target.startsWith("-") || target.endsWith("-")) problems.push("must not begin or end with a hyphen");
    for (const p of problems) errors.push(fieldError.invalid(field, JSON.stringify(target), p));
  });
  return errors;
}

function validateName(r: ResourceType, obj: JsonObject): FieldError[] {
  const name = objectAt(obj, "metadata")?.["name"];
  if (typeof name !== "string" || name === "") return [fieldError.required("metadata.name", "name or generateName is required")];
  const [pattern, message, max] =
    r.group === "" && r.kind === "Namespace" ? [label, labelMessage, 63] : r.group === "" && r.kind === "Service" ? [dns1035, dns1035Message, 63] : [subdomain, subdomainMessage, 253];
  const errors: FieldError[] = [];
  if (name.length > max) errors.push(fieldError.invalid("metadata.name", JSON.stringify(name), `must be no more than ${max} characters`));
  if (!pattern.test(name)) errors.push(fieldError.invalid("metadata.name", JSON.stringify(name), message));
  return errors;
}

function validateKeys(obj: JsonObject): FieldError[] {
  const errors: FieldError[] = [];
  for (const field of ["data", "binaryData", "stringData"]) {
    for (const key of Object.keys(objectAt(obj, field) ?? {})) {
      if (!/^[-._a-zA-Z0-9]+$/.test(key)) errors.push(fieldError.invalid(`${field}[${key}]`, JSON.stringify(key), configKeyMessage));
    }
  }
  return errors;
}

function validateImmutable(obj: JsonObject, live: JsonObject | undefined): FieldError[] {
  if (live?.["immutable"] !== true) return [];
  const errors: FieldError[] = [];
  if (obj["immutable"] !== true) errors.push(fieldError.forbidden("immutable", "field is immutable when `immutable` is set"));
  for (const field of ["data", "binaryData"]) {
    if (!deepEqual(obj[field] ?? {}, live[field] ?? {})) errors.push(fieldError.forbidden(field, "field is immutable when `immutable` is set"));
  }
  return errors;
}

function validateWorkload(obj: JsonObject, live: JsonObject | undefined): FieldError[] {
  const spec = objectAt(obj, "spec") ?? {};
  const errors: FieldError[] = [];
  const replicas = spec["replicas"];
  if (typeof replicas === "number" && replicas < 0) errors.push(fieldError.invalid("spec.replicas", String(replicas), "must be greater than or equal to 0"));
  const selector = objectAt(spec, "selector");
  if (selector === undefined) errors.push(fieldError.required("spec.selector"));
  const template = objectAt(spec, "template");
  const labels = objectAt(objectAt(template, "metadata"), "labels");
  if (!selectorMatches(selector, labels)) {
    errors.push(fieldError.invalid("spec.template.metadata.labels", goStringMap(labels), "`selector` does not match template `labels`"));
  }
  const containers = objectAt(template, "spec")?.["containers"];
  if (!Array.isArray(containers) || containers.length === 0) errors.push(fieldError.required("spec.template.spec.containers"));
  const liveSelector = objectAt(objectAt(live, "spec"), "selector");
  if (live !== undefined && selector !== undefined && !deepEqual(selector, liveSelector)) {
    errors.push(fieldError.invalid("spec.selector", goLabelSelector(selector), "field is immutable"));
  }
  return errors;
}

function selectorMatches(selector: JsonObject | undefined, labels: JsonObject | undefined): boolean {
  if (selector === undefined) return false;
  const matchLabels = objectAt(selector, "matchLabels") ?? {};
  const expressions = Array.isArray(selector["matchExpressions"]) ? selector["matchExpressions"].filter(isObject) : [];
  if (Object.keys(matchLabels).length === 0 && expressions.length === 0) return false;
  const have = labels ?? {};
  const labelsOk = Object.entries(matchLabels).every(([k, v]) => have[k] === v);
  return labelsOk && expressions.every((e) => expressionMatches(e, have));
}

function expressionMatches(e: JsonObject, labels: JsonObject): boolean {
  const key = String(e["key"]);
  const values = Array.isArray(e["values"]) ? e["values"].map(String) : [];
  const has = Object.hasOwn(labels, key);
  switch (e["operator"]) {
    case "In":
      return has && values.includes(String(labels[key]));
    case "NotIn":
      return !has || !values.includes(String(labels[key]));
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
    default:
      return false;
  }
}

function goStringMap(map: JsonObject | undefined): string {
  if (map === undefined) return "map[string]string(nil)";
  const entries = Object.keys(map).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(String(map[k]))}`);
  return `map[string]string{${entries.join(", ")}}`;
}

function goLabelSelector(selector: JsonObject): string {
  const expressions = Array.isArray(selector["matchExpressions"]) ? "[]v1.LabelSelectorRequirement{...}" : "[]v1.LabelSelectorRequirement(nil)";
  return `v1.LabelSelector{MatchLabels:${goStringMap(objectAt(selector, "matchLabels"))}, MatchExpressions:${expressions}}`;
}
