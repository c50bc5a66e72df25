import type { SourceLocation } from "../core/location.ts";
import type { Snapshot } from "../source/types.ts";
import type { KustomizeInputs } from "./kustomize-inputs.ts";
import { kustomizationNames } from "./kustomize-inputs.ts";
import type { SourceFinder } from "./kustomize-sources.ts";
import { parseManifestFile } from "./parse-manifests.ts";
import type { SubstitutionError } from "./var-resolver.ts";
import { lineColumnOf } from "../core/yaml-positions.ts";
import { referenceOffset, VariableError } from "./variable-error.ts";

/** A substitution that failed in kustomize's output, and what is needed to find where it is written. */
export interface KustomizeFailure {
  /** The failure, located in the output (which is read as if it were the kustomization file). */
  readonly error: VariableError;
  readonly output: Buffer;
  readonly kfile: string;
  readonly snapshot: Snapshot;
  readonly inputs: KustomizeInputs;
  readonly sourceOf: SourceFinder;
}

/**
 * The same failure at the input file and line that hold its `${…}`
 * ({@link locateKustomizeReference}); failing that, where the object that holds it is defined;
 * failing that, the kustomization file alone, never a line of the output.
 */
export async function relocateKustomizeFailure(f: KustomizeFailure, signal?: AbortSignal): Promise<VariableError> {
  const objectSource = objectSourceAt(f);
  const location = await locateKustomizeReference(f.snapshot, f.inputs, f.error.failure, objectSource?.file, signal);
  return new VariableError(f.error.failure, location ?? objectSource ?? { file: f.kfile });
}

/** Where the object whose document holds the failure's output line is defined, if known. */
function objectSourceAt(f: KustomizeFailure): SourceLocation | undefined {
  const line = f.error.subject?.location?.line;
  if (line === undefined) return undefined;
  const docs = parseManifestFile(f.kfile, f.output, { vars: undefined });
  const holder = docs.filter((d) => (d.location.line ?? 0) <= line).at(-1);
  return holder === undefined ? undefined : f.sourceOf(holder.object);
}

/**
 * Finds where a `${…}` that failed in kustomize's output is written among the build's inputs,
 * since the output does not say which file its text came from. Looked for, in order: a file
 * whose whole content is the text that held it (a file a `configMapGenerator` embedded), the
 * line of that text around the reference, then the reference alone; in the file the object
 * came from (`prefer`) first, then the other inputs, kustomization files last (their inline
 * patches and literals). Undefined when no input has it as written (an escape, a fold).
 */
export async function locateKustomizeReference(
  snapshot: Snapshot,
  inputs: KustomizeInputs,
  failure: SubstitutionError,
  prefer: string | undefined,
  signal?: AbortSignal,
): Promise<SourceLocation | undefined> {
  const files = inputFiles(snapshot, inputs, prefer);
  const contents = await snapshot.readFiles(files, signal);
  const texts = files
    .map((file) => ({ file, content: contents.get(file) }))
    .filter((f): f is { file: string; content: Buffer } => f.content !== undefined && !f.content.subarray(0, 8000).includes(0))
    .map((f) => ({ file: f.file, text: f.content.toString("utf8") }));
  const at = (file: string, text: string, offset: number): SourceLocation => ({ file, ...lineColumnOf(text, offset) });

  const whole = texts.find((f) => f.text === failure.text);
  const wholeOffset = whole === undefined ? undefined : referenceOffset(whole.text, failure);
  if (whole !== undefined && wholeOffset !== undefined) return at(whole.file, whole.text, wholeOffset);

  const line = lineAround(failure);
  for (const f of texts) {
    const found = f.text.indexOf(line.text);
    if (found !== -1) return at(f.file, f.text, found + line.referenceAt);
  }
  for (const f of texts) {
    const found = f.text.indexOf(failure.reference);
    if (found !== -1) return at(f.file, f.text, found);
  }
  return undefined;
}

function inputFiles(snapshot: Snapshot, inputs: KustomizeInputs, prefer: string | undefined): string[] {
  const all = [...new Set([...inputs.dirs.flatMap((d) => snapshot.listFiles(d).map((f) => f.path)), ...inputs.files])].sort();
  const isKustomization = (p: string): boolean => (kustomizationNames as readonly string[]).includes(p.slice(p.lastIndexOf("/") + 1));
  const rank = (p: string): number => (p === prefer ? 0 : isKustomization(p) ? 2 : 1);
  return all.sort((a, b) => rank(a) - rank(b));
}

/** The line of the substituted text that holds the reference, trimmed, and where the reference is in it. */
function lineAround(failure: SubstitutionError): { text: string; referenceAt: number } {
  const { text, index } = failure;
  const start = text.lastIndexOf("\n", index - 1) + 1;
  const end = text.indexOf("\n", index);
  const raw = text.slice(start, end === -1 ? text.length : end);
  const trimmed = raw.trimStart();
  const referenceAt = index - start - (raw.length - trimmed.length);
  const line = trimmed.trimEnd();
  // A reference across lines is not on one line: look for the reference alone.
  return referenceAt + failure.reference.length <= line.length ? { text: line, referenceAt } : { text: failure.reference, referenceAt: 0 };
}
