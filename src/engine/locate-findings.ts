import { LineCounter, parseAllDocuments } from "yaml";
import type { Finding } from "../check/finding.ts";
import { locateInDocument, parseFieldPath, toLineColumn } from "../core/yaml-positions.ts";
import type { Snapshot } from "../source/types.ts";

/**
 * Moves findings about a field from the line its document starts on to the line of the
 * field itself. Files are parsed again only for findings, so the common case costs nothing.
 */
export async function refineFindingLocations(findings: readonly Finding[], snapshot: Snapshot): Promise<Finding[]> {
  const wanted = findings.filter((f) => f.field !== undefined && f.location?.line !== undefined && /\.(ya?ml|json)$/i.test(f.location.file));
  if (wanted.length === 0) return [...findings];
  const files = [...new Set(wanted.map((f) => f.location?.file ?? ""))];
  const contents = await snapshot.readFiles(files);
  const parsed = new Map<string, { counter: LineCounter; docs: ReturnType<typeof parseAllDocuments> }>();
  for (const [file, buf] of contents) {
    const counter = new LineCounter();
    parsed.set(file, { counter, docs: parseAllDocuments(buf.toString("utf8"), { lineCounter: counter }) });
  }
  return findings.map((f) => {
    if (!wanted.includes(f) || f.location === undefined || f.field === undefined) return f;
    const p = parsed.get(f.location.file);
    if (p === undefined || !Array.isArray(p.docs)) return f;
    const doc = p.docs.find((d) => d.contents?.range != null && toLineColumn(p.counter, d.contents.range[0]).line === f.location?.line);
    const pos = doc === undefined ? undefined : locateInDocument(doc, p.counter, parseFieldPath(f.field), { preferKey: true });
    return pos === undefined ? f : { ...f, location: { file: f.location.file, line: pos.line, column: pos.column } };
  });
}
