import { posix } from "node:path";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import { getPath, isRecord } from "../core/object.ts";
import type { Snapshot } from "../source/types.ts";
import type { ParsedManifest } from "./parse-manifests.ts";
import { hasSubstitutionDisabled } from "./parse-manifests.ts";
import { SubstitutionError, type VarResolver } from "./substitute.ts";
import { lineColumnOf } from "../core/yaml-positions.ts";
import { VariableError } from "./variable-error.ts";
import { sopsFormatOf } from "../sops/format.ts";

const hostFileApiVersion = "host.gitward.dev/v1alpha1";

/** The stack-relative files that host `File` objects name in `spec.source`, resolved against the stack directory. */
export function hostSourcePaths(manifests: readonly ParsedManifest[], dir: string): Map<string, ParsedManifest> {
  const out = new Map<string, ParsedManifest>();
  for (const m of manifests) {
    const source = sourceOf(m);
    if (source !== undefined) out.set(resolveSource(source, dir, m), m);
  }
  return out;
}

/**
 * Inlines `spec.source` of host `File` objects: the named file, read from the same commit,
 * becomes `spec.content`, substituted like the manifest that names it. The path is relative to
 * the stack directory and cannot leave it.
 */
export async function inlineHostSources(
  manifests: readonly ParsedManifest[],
  snapshot: Snapshot,
  dir: string,
  resolver: VarResolver | undefined,
  signal?: AbortSignal,
): Promise<ParsedManifest[]> {
  const wanted = hostSourcePaths(manifests, dir);
  if (wanted.size === 0) return [...manifests];
  const known = new Set(snapshot.listFiles(dir).map((f) => f.path));
  for (const [path, m] of wanted) {
    if (!known.has(path)) {
      throw new GitwardError(ErrorCode.Render, `spec.source "${String(sourceOf(m))}": no such file in the stack directory at this commit`, {
        subject: { location: m.location },
      });
    }
  }
  const contents = await snapshot.readFiles([...wanted.keys()], signal);
  return manifests.map((m) => {
    const source = sourceOf(m);
    if (source === undefined) return m;
    const path = resolveSource(source, dir, m);
    const raw = contents.get(path) ?? Buffer.alloc(0);
    const text = new TextDecoder("utf-8", { fatal: false }).decode(raw);
    if (!Buffer.from(text, "utf8").equals(raw)) {
      throw new GitwardError(ErrorCode.Render, `spec.source "${source}" is not UTF-8 text; host File content must be text`, { subject: { location: m.location } });
    }
    // A SOPS file stays as Git has it (ciphertext) until apply decrypts it; substituting into it would break its MAC.
    const sopsFile = sopsFormatOf(path, raw);
    let content = text;
    if (resolver !== undefined && sopsFile === undefined && !hasSubstitutionDisabled(m.object)) {
      try {
        content = resolver.substitute(text);
      } catch (e: unknown) {
        if (!(e instanceof SubstitutionError)) throw e;
        throw new VariableError(e, { file: path, ...lineColumnOf(text, e.index) });
      }
    }
    const spec = isRecord(m.object["spec"]) ? m.object["spec"] : {};
    const { source: _inlined, ...rest } = spec;
    return { ...m, object: { ...m.object, spec: { ...rest, content } }, ...(sopsFile === undefined ? {} : { sopsFile }) };
  });
}

function sourceOf(m: ParsedManifest): string | undefined {
  if (m.object["apiVersion"] !== hostFileApiVersion || m.object["kind"] !== "File") return undefined;
  const source = getPath(m.object, ["spec", "source"]);
  return typeof source === "string" ? source : undefined;
}

function resolveSource(source: string, dir: string, m: ParsedManifest): string {
  const control = /[\u0000-\u001f\u007f]/.exec(source);
  if (control !== null) {
    const code = `U+${(control[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
    throw new GitwardError(ErrorCode.Limit, `spec.source ${JSON.stringify(source)} contains the control character ${code}; paths may not contain U+0000–U+001F or U+007F`, {
      subject: { location: m.location },
    });
  }
  const parts = source.split("/");
  if (source === "" || source.startsWith("/") || parts.includes("..") || source.includes("\0")) {
    throw new GitwardError(ErrorCode.Limit, `spec.source "${source}" must be a path inside the stack directory (relative, without "..")`, {
      subject: { location: m.location },
    });
  }
  return posix.normalize(dir === "" || dir === "." ? source : `${dir.replace(/\/$/, "")}/${source}`);
}
