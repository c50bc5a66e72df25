import { structuredPatch } from "diff";

/**
 * A unified diff of two texts: `@@ -start,count +start,count @@` hunks with three lines of
 * context, no file headers, no "\ No newline at end of file" markers; "" when they are equal.
 * An empty side is nothing (a create or a delete), as in Git and GNU diff: every line of the
 * other side is one hunk of additions (`@@ -0,0 +1,n @@`) or deletions (`@@ -1,n +0,0 @@`), and
 * the newline that ends the text is not an extra empty line. Plans and providers show
 * before → after with it.
 */
export function unifiedHunks(before: string, after: string): string {
  if (before === after) return "";
  if (before === "") return wholeText("+", after);
  if (after === "") return wholeText("-", before);
  const patch = structuredPatch("before", "after", before, after, "", "", { context: 3 });
  const lines: string[] = [];
  for (const hunk of patch.hunks) {
    lines.push(header(hunk.oldStart, hunk.oldLines, hunk.newStart, hunk.newLines));
    for (const l of hunk.lines) if (!l.startsWith("\\")) lines.push(l);
  }
  return lines.join("\n");
}

function wholeText(sign: "+" | "-", text: string): string {
  const lines = (text.endsWith("\n") ? text.slice(0, -1) : text).split("\n");
  const head = sign === "+" ? header(1, 0, 1, lines.length) : header(1, lines.length, 1, 0);
  return [head, ...lines.map((l) => sign + l)].join("\n");
}

// A side of no lines starts at the line before, 0 at the top of the file, as jsdiff's own formatPatch and GNU diff print it.
function header(oldStart: number, oldLines: number, newStart: number, newLines: number): string {
  const at = (start: number, count: number): string => `${count === 0 ? start - 1 : start},${count}`;
  return `@@ -${at(oldStart, oldLines)} +${at(newStart, newLines)} @@`;
}
