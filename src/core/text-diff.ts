import { structuredPatch } from "diff";

/**
 * A unified diff of two texts: `@@` hunks with three lines of context, no file headers. As
 * jsdiff's own formatPatch and GNU diff, an empty side starts at the line before (0 for a new
 * file). Providers show live → desired with it.
 */
export function unifiedHunks(before: string, after: string): string {
  const patch = structuredPatch("live", "desired", before, after, "", "", { context: 3 });
  const lines: string[] = [];
  for (const hunk of patch.hunks) {
    const oldStart = hunk.oldLines === 0 ? hunk.oldStart - 1 : hunk.oldStart;
    const newStart = hunk.newLines === 0 ? hunk.newStart - 1 : hunk.newStart;
    lines.push(`@@ -${oldStart},${hunk.oldLines} +${newStart},${hunk.newLines} @@`);
    for (const l of hunk.lines) if (!l.startsWith("\\")) lines.push(l);
  }
  return lines.join("\n");
}
