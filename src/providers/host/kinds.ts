import { z } from "zod";
import type { KObject } from "../../core/object.ts";
import { displayPath, normalizeRelPath } from "./fs/paths.ts";

/** The API group of the objects a host target manages. */
export const hostGroup = "host.gitward.dev";
/** The one version of {@link hostGroup} so far. */
export const hostApiVersion = `${hostGroup}/v1alpha1`;

const relativePath = z.string().min(1).transform((p, ctx) => {
  const control = controlCharacterIn(p);
  if (control !== undefined) {
    ctx.addIssue({ code: "custom", message: control });
    return z.NEVER;
  }
  try {
    return normalizeRelPath(p);
  } catch (e: unknown) {
    ctx.addIssue({ code: "custom", message: e instanceof Error ? e.message : String(e) });
    return z.NEVER;
  }
});

/** Checked for control characters only: the renderer reads it (host-sources.ts) and a kustomize stack refuses it. */
const sourcePath = z.string().superRefine((p, ctx) => {
  const control = controlCharacterIn(p);
  if (control !== undefined) ctx.addIssue({ code: "custom", message: control });
});

/** Checked by {@link parseMode}: YAML reads `0644` as a decimal number, so only strings are accepted. */
const mode = z.union([z.string(), z.number()]).optional();

/** A user or group by name or numeric id. */
const principal = z.union([z.string().min(1), z.number().int().min(0)]).transform((v) => String(v));

const metadata = z.looseObject({ name: z.string().min(1) });

const fileSpec = z.strictObject({
  path: relativePath.describe("Path relative to the target root."),
  content: z.string().optional().describe("The file's text; rendered with variable substitution."),
  source: sourcePath.optional().describe("A file in the stack's directory whose text becomes the content (inlined when rendering)."),
  mode: mode.describe("Octal mode as a string, e.g. \"0640\"; default \"0644\"."),
  owner: principal.optional(),
  group: principal.optional(),
  sensitive: z.boolean().default(false).describe("Never show the content in a diff (only sizes and hashes), whatever the mode."),
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
  /** A diff shows only the content's size and hash, never the content. */
  readonly sensitive: boolean;
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
  /** The check rule it breaks; default `schema`. */
  readonly rule?: string;
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
    const m = parseMode(s.mode, 0o644, "File");
    if (typeof m !== "number") return { issues: [m] };
    if (s.source !== undefined) return { issues: [{ field: "spec.source", message: "was not inlined: source is only read from a plain stack directory (not kustomize output)" }] };
    if (s.content === undefined) return { issues: [{ field: "spec.content", message: "is required (or spec.source naming a file in the stack's directory)" }] };
    return {
      spec: { kind, name, path: s.path, content: Buffer.from(s.content, "utf8"), mode: m, sensitive: s.sensitive, ...principals(s) },
      issues: [],
    };
  }
  const parsed = directorySpec.safeParse(obj["spec"]);
  if (!parsed.success) return { issues: zodIssues(parsed.error) };
  const s = parsed.data;
  const m = parseMode(s.mode, 0o755, "Directory");
  if (typeof m !== "number") return { issues: [m] };
  return { spec: { kind, name, path: s.path, mode: m, purge: s.purge, ...principals(s) }, issues: [] };
}

function principals(s: { owner?: string | undefined; group?: string | undefined }): { owner?: string; group?: string } {
  return { ...(s.owner === undefined ? {} : { owner: s.owner }), ...(s.group === undefined ? {} : { group: s.group }) };
}

const specialBits = [{ bit: 0o4000, name: "setuid" }, { bit: 0o2000, name: "setgid" }, { bit: 0o1000, name: "sticky" }] as const;

/**
 * YAML reads `mode: 0644` as the decimal 644, so a number is refused rather than guessed at.
 * Setuid and setgid are refused, and sticky on a File: a commit must not be able to make a
 * program run as its owner (root) on the host. Sticky on a Directory (like /tmp) is allowed.
 */
function parseMode(value: string | number | undefined, fallback: number, kind: HostObjectSpec["kind"]): number | HostKindIssue {
  if (value === undefined) return fallback;
  if (typeof value === "number") {
    return { field: "spec.mode", message: `must be a quoted octal string, like mode: "0644" (an unquoted ${value} is a decimal number in YAML)` };
  }
  if (!/^0?[0-7]{3,4}$/.test(value)) return { field: "spec.mode", message: `"${value}" is not an octal mode like "0644"` };
  const mode = Number.parseInt(value, 8);
  const special = specialBits.filter((b) => (mode & b.bit) !== 0 && (b.bit !== 0o1000 || kind === "File"));
  if (special.length === 0) return mode;
  const names = special.map((b) => `${b.name} (0${b.bit.toString(8)})`).join(" and ");
  const allowed = mode & ~special.reduce((all, b) => all | b.bit, 0);
  return {
    field: "spec.mode", rule: "host.special-mode",
    message: `"${value}" sets ${names}: gitward refuses ${kind === "File" ? "setuid, setgid and sticky bits on a File" : "setuid and setgid bits on a Directory"}; use "0${allowed.toString(8).padStart(3, "0")}"`,
  };
}

/**
 * Why a path is refused for holding a control character (U+0000–U+001F, U+007F), or undefined:
 * a newline in a file name forges lines in every diff, log and record that shows the path.
 */
export function controlCharacterIn(path: string): string | undefined {
  const found = /[\u0000-\u001f\u007f]/.exec(path);
  if (found === null) return undefined;
  const code = `U+${(found[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
  return `path ${displayPath(path)} contains the control character ${code}; paths may not contain U+0000–U+001F or U+007F`;
}

function zodIssues(error: z.ZodError): HostKindIssue[] {
  return error.issues.map((i) => {
    const field = ["spec", ...i.path.map(String)].join(".");
    const message = i.code === "unrecognized_keys" ? `unknown field${i.keys.length > 1 ? "s" : ""} ${i.keys.map((k) => `"${k}"`).join(", ")}` : i.message;
    return { field, message };
  });
}
