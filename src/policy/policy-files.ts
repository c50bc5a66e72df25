import { isScalar, LineCounter, parseAllDocuments, Scalar, type Document } from "yaml";
import type { SourceLocation } from "../core/location.ts";
import { documentToJS, isStackOverflow, stackOverflowProblem, yamlErrorMessage } from "../core/yaml-limits.ts";
import { lineColumnOf, locateInDocument, toLineColumn, type LineColumn, type YamlPath } from "../core/yaml-positions.ts";
import type { ConfigIssue } from "../config/config-error.ts";
import { zodConfigIssues } from "../config/zod-issues.ts";
import { policyDocumentSchema, type PolicyDocument } from "./document-schema.ts";

/** One YAML document of a policy file, with what is needed to point into it. */
export interface PolicySourceDocument {
  readonly file: string;
  readonly raw: unknown;
  /** Where the document starts. */
  readonly start: SourceLocation;
  /** Where a key path is; with `keyOf`, the key of that name in the map at the path. */
  locate(path: YamlPath, keyOf?: string): SourceLocation;
  /** Where a character offset inside the string at `path` is, for errors inside CEL expressions. */
  locateInString(path: YamlPath, offset: number | undefined): SourceLocation;
}

/** True for the files the policies directory is read for. */
export function isPolicyFile(path: string): boolean {
  return /\.ya?ml$/i.test(path);
}

/** Splits a policy file into its non-empty YAML documents; syntax errors become issues. */
export function readPolicyDocuments(file: string, text: string): { docs: PolicySourceDocument[]; issues: ConfigIssue[] } {
  const counter = new LineCounter();
  let parsed: ReturnType<typeof parseAllDocuments>;
  try {
    parsed = parseAllDocuments(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  } catch (e: unknown) {
    // Nesting deep enough to overflow the parser's own stack.
    if (!isStackOverflow(e)) throw e;
    const problem = stackOverflowProblem(text);
    return { docs: [], issues: [{ location: at(file, lineColumnOf(text, problem.offset ?? 0)), keyPath: "", message: problem.message }] };
  }
  if (!Array.isArray(parsed)) return { docs: [], issues: [] };
  const docs: PolicySourceDocument[] = [];
  const issues: ConfigIssue[] = [];
  for (const doc of parsed) {
    const syntax = [...doc.errors, ...doc.warnings];
    for (const e of syntax) {
      const pos = toLineColumn(counter, e.pos[0]);
      issues.push({ location: at(file, pos), keyPath: "", message: yamlErrorMessage(e.message).message });
    }
    if (syntax.length > 0 || doc.contents === null) continue;
    // Aliases past the limit, cycles and deep nesting are issues at their line, not exceptions.
    const converted = documentToJS(doc);
    if ("problem" in converted) {
      const { message, offset, limit } = converted.problem;
      const pos = toLineColumn(counter, offset ?? doc.contents.range?.[0] ?? 0);
      issues.push({ location: at(file, pos), keyPath: "", message: limit ? message : `invalid YAML: ${message}` });
      continue;
    }
    docs.push(sourceDocument(file, text, doc, counter, converted.value));
  }
  return { docs, issues };
}

function sourceDocument(file: string, text: string, doc: Document, counter: LineCounter, raw: unknown): PolicySourceDocument {
  const startOffset = doc.contents?.range?.[0] ?? 0;
  return {
    file,
    raw,
    start: at(file, toLineColumn(counter, startOffset)),
    locate(path, keyOf) {
      return at(file, locateInDocument(doc, counter, path, keyOf === undefined ? {} : { keyOf }));
    },
    locateInString(path, offset) {
      const node = doc.getIn(path, true);
      if (!isScalar(node) || typeof node.value !== "string" || node.range === undefined || node.range === null) {
        return at(file, locateInDocument(doc, counter, path));
      }
      return at(file, toLineColumn(counter, node.range[0]), offset === undefined ? undefined : offsetIn(node, node.range, text, counter, offset));
    },
  };
}

/** Maps an offset in a scalar's value to its position in the file, for plain, quoted and literal scalars. */
function offsetIn(node: Scalar, range: readonly number[], text: string, counter: LineCounter, offset: number): LineColumn | undefined {
  const start = range[0] ?? 0;
  const end = range[1] ?? start;
  const value = String(node.value);
  switch (node.type) {
    case Scalar.PLAIN:
      return text.slice(start, end) === value ? toLineColumn(counter, start + offset) : undefined;
    case Scalar.QUOTE_SINGLE:
    case Scalar.QUOTE_DOUBLE:
      return text.slice(start + 1, end - 1) === value ? toLineColumn(counter, start + 1 + offset) : undefined;
    case Scalar.BLOCK_LITERAL: {
      const header = toLineColumn(counter, start);
      const before = value.slice(0, offset);
      const lineIndex = before.split("\n").length - 1;
      const column = offset - (before.lastIndexOf("\n") + 1);
      const firstLine = text.slice(text.indexOf("\n", start) + 1);
      const indent = /^ */.exec(firstLine.split("\n").find((l) => l.trim() !== "") ?? "")?.[0].length ?? 0;
      return { line: header.line + 1 + lineIndex, column: indent + column + 1 };
    }
    default:
      return undefined;
  }
}

function at(file: string, pos: LineColumn | undefined, precise?: LineColumn): SourceLocation {
  const p = precise ?? pos;
  return p === undefined ? { file } : { file, line: p.line, column: p.column };
}

/** Validates one document against the policy schema; every problem is an issue with its position. */
export function validatePolicyDocument(doc: PolicySourceDocument): { policy?: PolicyDocument; issues: ConfigIssue[] } {
  const parsed = policyDocumentSchema.safeParse(doc.raw);
  if (parsed.success) return { policy: parsed.data, issues: [] };
  return { issues: zodConfigIssues(parsed.error.issues, doc.raw, (path, keyOf) => doc.locate(path, keyOf), policyKeys) };
}

/** Every key a policy document knows, for "did you mean" suggestions. */
const policyKeys = [
  "apiVersion", "kind", "metadata", "name", "labels", "annotations", "spec", "description", "enforcement",
  "environments", "match", "resources", "apiGroups", "kinds", "namespaces", "labelSelector", "matchLabels",
  "matchExpressions", "key", "operator", "values", "stacks", "validations", "expression", "message", "messageExpression",
];
