import { parseAllDocuments } from "yaml";
import type { YAMLError } from "yaml";
import { badRequest } from "./errors.ts";
import type { JsonObject } from "./values.ts";
import { isObject } from "./values.ts";

// sigs.k8s.io/yaml decodes with go-yaml v2: YAML 1.1 booleans (y/n/yes/on...) and octals, but
// timestamps and sexagesimal numbers stay strings, and a repeated key silently wins.
const options = {
  version: "1.1",
  uniqueKeys: false,
  merge: true,
  customTags: (tags: readonly unknown[]) =>
    tags.filter((t) => {
      const tag = t as { tag?: string; format?: string };
      return tag.tag !== "tag:yaml.org,2002:timestamp" && tag.format !== "TIME";
    }),
} as const;

/**
 * Decodes an apply patch body (YAML, or JSON, which is YAML) the way the API server does;
 * non-string keys become strings (`on:` is the key "true"). Errors are 400 "error decoding YAML".
 */
export function decodeApplyBody(text: string): JsonObject {
  const docs = parseAllDocuments(text, options as never);
  const doc = Array.isArray(docs) ? docs[0] : undefined;
  if (doc === undefined) return {};
  const error = doc.errors[0];
  if (error !== undefined) throw badRequest(`error decoding YAML: error converting YAML to JSON: yaml: ${goYamlMessage(error)}`);
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  if (value === null || value === undefined) return {};
  if (!isObject(value)) {
    const kind = Array.isArray(value) ? "array" : typeof value === "string" ? "string" : typeof value;
    throw badRequest(`error decoding YAML: error unmarshaling JSON: json: cannot unmarshal ${kind} into Go value of type map[string]interface {}`);
  }
  return value;
}

// The go-yaml wording of the most common syntax errors, with its line numbers.
function goYamlMessage(error: YAMLError): string {
  const line = error.linePos?.[0].line ?? 1;
  const text = error.message.split("\n")[0] ?? "";
  if (text.startsWith("Flow map")) return `line ${Math.max(1, line - 1)}: did not find expected ',' or '}'`;
  if (text.startsWith("Flow sequence")) return `line ${Math.max(1, line - 1)}: did not find expected ',' or ']'`;
  if (error.code === "BLOCK_AS_IMPLICIT_KEY") return `line ${line}: mapping values are not allowed in this context`;
  if (error.code === "UNEXPECTED_TOKEN") return `line ${line}: did not find expected key`;
  return `line ${line}: ${text.replace(/ at line \d+, column \d+:?$/, "")}`;
}
