/** One trailer of a commit message: `Key: value`, a folded value unfolded onto one line. */
export interface Trailer {
  readonly key: string;
  readonly value: string;
}

// Lines git itself writes into a trailer block; one of them lets a block hold other lines too.
const gitGeneratedPrefixes = ["Signed-off-by: ", "(cherry picked from commit "];

/**
 * The trailers of a commit message, in order, found by git's rules (those of
 * `git interpret-trailers --parse --no-divider` and of `%(trailers)` in `git log`):
 * the trailer block is the message's last paragraph, never its first (the title);
 * every line of it is a trailer (`Key: value`, the key made of letters, digits and
 * `-`) or continues one (it starts with whitespace), or a quarter of its lines are
 * trailers and one of them is git's own (`Signed-off-by: `, `(cherry picked from
 * commit `). Lines starting with `#` are comments. Keys are as written; git compares
 * them without regard to case.
 */
export function parseTrailers(message: string): Trailer[] {
  const lines = message.split("\n").map((l) => l.replace(/\r$/, ""));
  const start = trailerBlockStart(lines);
  if (start === undefined) return [];
  const trailers: { key: string; value: string }[] = [];
  let last: { key: string; value: string } | undefined;
  for (const line of lines.slice(start)) {
    if (isComment(line)) continue;
    if (last !== undefined && /^\s/.test(line)) {
      if (line.trim() !== "") last.value = `${last.value} ${line.trim()}`.trim();
      continue;
    }
    const at = separatorAt(line);
    last = at >= 1 ? { key: line.slice(0, at).trim(), value: line.slice(at + 1).trim() } : undefined;
    if (last !== undefined) trailers.push(last);
  }
  return trailers;
}

/** The index of the trailer block's first line, or undefined when the message has none. */
function trailerBlockStart(lines: readonly string[]): number | undefined {
  let endOfTitle = 0;
  while (endOfTitle < lines.length && (isComment(lines[endOfTitle] ?? "") || !isBlank(lines[endOfTitle] ?? ""))) endOfTitle++;
  let onlyBlank = true;
  let recognized = false;
  let trailerLines = 0;
  let otherLines = 0;
  // Lines starting with whitespace: a trailer's continuation if one comes above them, else other lines.
  let maybeContinued = 0;
  for (let i = lines.length - 1; i >= endOfTitle; i--) {
    const line = lines[i] ?? "";
    if (isComment(line)) {
      otherLines += maybeContinued;
      maybeContinued = 0;
      continue;
    }
    if (isBlank(line)) {
      if (onlyBlank) continue;
      otherLines += maybeContinued;
      const isBlock = (recognized && trailerLines * 3 >= otherLines) || (trailerLines > 0 && otherLines === 0);
      return isBlock ? i + 1 : undefined;
    }
    onlyBlank = false;
    if (gitGeneratedPrefixes.some((p) => line.startsWith(p))) {
      trailerLines++;
      maybeContinued = 0;
      recognized = true;
    } else if (separatorAt(line) >= 1) {
      trailerLines++;
      maybeContinued = 0;
    } else if (/^\s/.test(line)) {
      maybeContinued++;
    } else {
      otherLines += 1 + maybeContinued;
      maybeContinued = 0;
    }
  }
  return undefined;
}

/** Where a trailer's `:` is: after a key of letters, digits and `-`, with whitespace allowed before it; -1 for other lines. */
function separatorAt(line: string): number {
  let spaced = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? "";
    if (c === ":") return i;
    if (!spaced && /[A-Za-z0-9-]/.test(c)) continue;
    if (i > 0 && (c === " " || c === "\t")) {
      spaced = true;
      continue;
    }
    break;
  }
  return -1;
}

function isBlank(line: string): boolean {
  return line.trim() === "";
}

function isComment(line: string): boolean {
  return line.startsWith("#");
}
