import type { SourceLocation } from "./location.ts";
import type { ObjRef } from "./objref.ts";
import { splitApiVersion } from "./objref.ts";

/** A JSON value as parsed from YAML or JSON. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A KRM object: apiVersion, kind, metadata and whatever else its kind holds. */
export type KObject = { [key: string]: JsonValue };

/** One desired object as rendered from a stack, with where it came from. */
export interface RenderedObject {
  readonly object: KObject;
  readonly ref: ObjRef;
  readonly apiVersion: string;
  /** The document it came from; for kustomize output, the kustomization file. */
  readonly source: SourceLocation;
  /**
   * For an object holding SOPS-encrypted values: the documents as the sops tool wrote them (in
   * Git, before namespace defaulting or kustomize), whose MACs decryption verifies. Ciphertext only.
   */
  readonly encrypted?: readonly KObject[];
  /** For a Secret kustomize generated from a SOPS dotenv file (`secretGenerator.envs`): that file, encrypted. */
  readonly encryptedEnvFile?: string;
  /** For a host File whose `spec.source` is a SOPS file: its format; `spec.content` is that file, encrypted. */
  readonly sopsFile?: "yaml" | "json" | "dotenv" | "ini" | "binary";
}

/** Returns the value at a dotted path of plain keys, or undefined. */
export function getPath(obj: JsonValue | undefined, path: readonly string[]): JsonValue | undefined {
  let cur: JsonValue | undefined = obj;
  for (const key of path) {
    if (cur === null || typeof cur !== "object" || Array.isArray(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/** True for a plain JSON object (not an array, not null). */
export function isRecord(value: unknown): value is { [key: string]: JsonValue } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The ref of an object, or undefined when apiVersion, kind or metadata.name is missing. */
export function refOf(obj: KObject): ObjRef | undefined {
  const apiVersion = obj["apiVersion"];
  const kind = obj["kind"];
  const name = getPath(obj, ["metadata", "name"]);
  if (typeof apiVersion !== "string" || typeof kind !== "string" || typeof name !== "string") return undefined;
  if (apiVersion === "" || kind === "" || name === "") return undefined;
  const namespace = getPath(obj, ["metadata", "namespace"]);
  const { group } = splitApiVersion(apiVersion);
  return typeof namespace === "string" && namespace !== ""
    ? { group, kind, namespace, name }
    : { group, kind, name };
}
