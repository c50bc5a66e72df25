import { z } from "zod";
import type { KObject } from "../../core/object.ts";
import { normalizeRelPath } from "./fs/paths.ts";

/** The API group of the objects a host target manages. */
export const hostGroup = "host.gitward.dev";
/** The one version of {@link hostGroup} so far. */
export const hostApiVersion = `${hostGroup}/v1alpha1`;

const relativePath = z.string().min(1).transform((p, ctx) => {
  try {
    return normalizeRelPath(p);
  } catch (e: unknown) {
    ctx.addIssue({ code: "custom", message: e instanceof Error ? e.message : String(e) });
    return z.NEVER;
  }
});

/** Checked by {@link parseMode}: YAML reads `0644` as a decimal number, so only strings are accepted. */
const mode = z.union([z.string(), z.number()]).optional();

/** A user or group by name or numeric id. */
const principal = z.union([z.string().min(1), z.number().int().min(0)]).transform((v) => String(v));

const metadata = z.looseObject({ name: z.string().min(1) });

const fileSpec = z.strictObject({
  path: relativePath.describe("Path relative to the target root."),
  content: z.string().optional().describe("The file's text; rendered with variable substitution."),
  source: z.string().optional().describe("A file in the stack's directory whose text becomes the content (inlined when rendering)."),
  mode: mode.describe("Octal mode as a string, e.g. \"0640\"; default \"0644\"."),
  owner: principal.optional(),
  group: principal.optional(),
});

const directorySpec = z.strictObject({
  path: relativePath,
  mode: mode.describe("Octal mode as a string; default \"0755\"."),
  owner: principal.optional(),
  group: principal.optional(),
  purge: z.boolean().default(false).describe("Remove files in it that gitward does not manage; false reports them as drift."),
});

/** A file gitward manages under a host target's root. */
export interface HostFileSpec {
  readonly kind: "File";
  readonly name: string;
  readonly path: string;
  readonly content: Buffer;
  readonly mode: number;
  readonly owner?: string;
  readonly group?: string;
}

/** A directory gitward manages under a host target's root. */
export interface HostDirectorySpec {
  readonly kind: "Directory";
  readonly name: string;
  readonly path: string;
  readonly mode: number;
  readonly owner?: string;
  readonly group?: string;
  readonly purge: boolean;
}

/** One host object, validated. */
export type HostObjectSpec = HostFileSpec | HostDirectorySpec;

/** A problem with a host object, with the field it is about ("" for the object). */
export interface HostKindIssue {
  readonly field: string;
  readonly message: string;
}

/** Validates one object for a host target; `issues` is empty exactly when `spec` is set. */
export function parseHostObject(obj: KObject): { spec?: HostObjectSpec; issues: HostKindIssue[] } {
  const apiVersion = obj["apiVersion"];
  const kind = obj["kind"];
  if (apiVersion !== hostApiVersion || (kind !== "File" && kind !== "Directory")) {
    return { issues: [{ field: "", message: `a host target manages ${hostApiVersion} File and Directory objects, not ${typeof apiVersion === "string" ? apiVersion : JSON.stringify(apiVersion)} ${typeof kind === "string" ? kind : JSON.stringify(kind)}` }] };
  }
  const meta = metadata.safeParse(obj["metadata"]);
  if (!meta.success) return { issues: [{ field: "metadata.name", message: "is required" }] };
  const name = meta.data.name;
  if (kind === "File") {
    const parsed = fileSpec.safeParse(obj["spec"]);
    if (!parsed.success) return { issues: zodIssues(parsed.error) };
    const s = parsed.data;
    const m = parseMode(s.mode, 0o644);
    if (typeof m !== "number") return { issues: [m] };
    if (s.source !== undefined) return { issues: [{ field: "spec.source", message: "was not inlined: source is only read from a plain stack directory (not kustomize output)" }] };
    if (s.content === undefined) return { issues: [{ field: "spec.content", message: "is required (or spec.source naming a file in the stack's directory)" }] };
    return {
      spec: { kind, name, path: s.path, content: Buffer.from(s.content, "utf8"), mode: m, ...principals(s) },
      issues: [],
    };
  }
  const parsed = directorySpec.safeParse(obj["spec"]);
  if (!parsed.success) return { issues: zodIssues(parsed.error) };
  const s = parsed.data;
  const m = parseMode(s.mode, 0o755);
  if (typeof m !== "number") return { issues: [m] };
  return { spec: { kind, name, path: s.path, mode: m, purge: s.purge, ...principals(s) }, issues: [] };
}

function principals(s: { owner?: string | undefined; group?: string | undefined }): { owner?: string; group?: string } {
  return { ...(s.owner === undefined ? {} : { owner: s.owner }), ...(s.group === undefined ? {} : { group: s.group }) };
}

/** YAML reads `mode: 0644` as the decimal 644, so a number is refused rather than guessed at. */
function parseMode(value: string | number | undefined, fallback: number): number | HostKindIssue {
  if (value === undefined) return fallback;
  if (typeof value === "number") {
    return { field: "spec.mode", message: `must be a quoted octal string, like mode: "0644" (an unquoted ${value} is a decimal number in YAML)` };
  }
  if (!/^0?[0-7]{3,4}$/.test(value)) return { field: "spec.mode", message: `"${value}" is not an octal mode like "0644"` };
  return Number.parseInt(value, 8);
}

function zodIssues(error: z.ZodError): HostKindIssue[] {
  return error.issues.map((i) => {
    const field = ["spec", ...i.path.map(String)].join(".");
    const message = i.code === "unrecognized_keys" ? `unknown field${i.keys.length > 1 ? "s" : ""} ${i.keys.map((k) => `"${k}"`).join(", ")}` : i.message;
    return { field, message };
  });
}
