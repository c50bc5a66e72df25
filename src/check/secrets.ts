import type { JsonValue, RenderedObject } from "../core/object.ts";
import { isRecord } from "../core/object.ts";
import { credentialPatternOf } from "../core/credential-patterns.ts";
import { formatFieldPath } from "../core/yaml-positions.ts";
import type { Finding } from "./finding.ts";
import { knownAfterApply } from "../render/outputs.ts";
import { isSopsEncryptedValue } from "../core/sops-values.ts";


/** True for an object SOPS has encrypted (it carries a `sops` section); schemas do not describe those. */
export function isSopsEncrypted(obj: { readonly [key: string]: unknown }): boolean {
  return isRecord(obj["sops"]);
}

/**
 * Finds secrets committed in clear: a Kubernetes Secret with data or stringData is an error
 * (a SOPS-encrypted Secret passes when every value is an `ENC[...]` value); values anywhere that look
 * like private keys or tokens are warnings. Messages never repeat the value.
 */
export function checkSecrets(obj: RenderedObject): Finding[] {
  const base = { ref: obj.ref, location: obj.source };
  const o = obj.object;
  if (obj.ref.group === "" && obj.ref.kind === "Secret") {
    const sops = isRecord(o["sops"]);
    const out: Finding[] = [];
    for (const field of ["data", "stringData"]) {
      const v = o[field];
      if (sops && isRecord(v)) {
        const clear = Object.entries(v).filter(([, value]) => !isSopsEncryptedValue(value)).map(([k]) => k);
        if (clear.length > 0) {
          out.push({ severity: "error", rule: "secret.plaintext", field: `${field}.${clear[0] ?? ""}`, message: `Secret carries a sops section, but ${field} key(s) ${clear.join(", ")} are not encrypted`, ...base });
        }
      } else if (isRecord(v) && Object.entries(v).some(([, value]) => value !== knownAfterApply)) {
        // A value that is a stack's output (`${outputs.db.password}`) is not in Git: it is shown
        // as known after apply when checked, and filled in from the producer's state at sync.
        out.push({
          severity: "error", rule: "secret.plaintext", field,
          message: `Secret has ${field} in clear (${Object.keys(v).length} key(s)); encrypt it (SOPS, Sealed Secrets) or reference an external secret store`,
          ...base,
        });
      }
    }
    return out;
  }
  const out: Finding[] = [];
  walkStrings(o, [], (path, value) => {
    const hit = credentialPatternOf(value);
    if (hit !== undefined) {
      out.push({ severity: "warning", rule: "secret.suspicious-value", field: formatFieldPath(path), message: `value looks like ${hit.name}`, ...base });
    }
  });
  return out;
}

function walkStrings(value: JsonValue, path: (string | number)[], visit: (path: (string | number)[], value: string) => void): void {
  if (typeof value === "string") {
    if (value.length >= 16) visit(path, value);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => walkStrings(v, [...path, i], visit));
  } else if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) walkStrings(v, [...path, k], visit);
  }
}
