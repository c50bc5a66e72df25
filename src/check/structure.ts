import type { RenderedObject } from "../core/object.ts";
import { getPath, isRecord } from "../core/object.ts";
import type { Finding } from "./finding.ts";
import type { ScopeResolver } from "../render/scopes.ts";

const dnsSubdomain = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/**
 * Checks the KRM shape every object needs: apiVersion, kind and metadata.name, a name
 * Kubernetes accepts, and no namespace on a kind known to be cluster-scoped.
 */
export function checkStructure(obj: RenderedObject, scopes: ScopeResolver): Finding[] {
  const out: Finding[] = [];
  const base = { ref: obj.ref, location: obj.source };
  const o = obj.object;
  const err = (rule: string, field: string, message: string): void => {
    out.push({ severity: "error", rule, field, message, ...base });
  };
  if (typeof o["apiVersion"] !== "string" || o["apiVersion"] === "") err("structure.missing-field", "apiVersion", "apiVersion is required");
  if (typeof o["kind"] !== "string" || o["kind"] === "") err("structure.missing-field", "kind", "kind is required");
  if (!isRecord(o["metadata"])) {
    err("structure.missing-field", "metadata", "metadata is required");
    return out;
  }
  const name = getPath(o, ["metadata", "name"]);
  if (typeof name !== "string" || name === "") {
    if (getPath(o, ["metadata", "generateName"]) !== undefined) {
      err("structure.generate-name", "metadata.generateName", "generateName cannot be used: gitward must know an object's name to track it");
    } else err("structure.missing-field", "metadata.name", "metadata.name is required");
  } else if (!dnsSubdomain.test(name) && obj.ref.group.endsWith("gitward.dev") === false) {
    err("structure.invalid-name", "metadata.name", `"${name}" is not a valid name (lowercase letters, digits, '-' and '.')`);
  }
  const ns = getPath(o, ["metadata", "namespace"]);
  if (typeof ns === "string" && ns !== "" && scopes.isNamespaced(obj.ref.group, obj.ref.kind) === false) {
    out.push({
      severity: "warning", rule: "structure.cluster-scoped-namespace", field: "metadata.namespace",
      message: `${obj.ref.kind} is cluster-scoped; its namespace "${ns}" is ignored`, ...base,
    });
  }
  return out;
}
