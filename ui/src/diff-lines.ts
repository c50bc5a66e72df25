/**
 * A unified diff (live → desired, as the API gives it, secrets already masked) split into
 * lines for the unified view and paired into rows for the side-by-side view. Pure.
 */

/** One line of a unified diff. */
export interface DiffLine {
  readonly kind: "add" | "del" | "ctx" | "hunk" | "meta";
  readonly text: string;
  /** Line number on the live (old) side, for del and ctx lines. */
  readonly old?: number;
  /** Line number on the desired (new) side, for add and ctx lines. */
  readonly new?: number;
}

/** One row of the side-by-side view: the live line left, the desired line right. */
export interface SideRow {
  readonly kind: "pair" | "hunk";
  readonly left?: DiffLine;
  readonly right?: DiffLine;
  /** The hunk header, for `hunk` rows. */
  readonly text?: string;
}

/** The lines of a unified diff, numbered from its hunk headers. */
export function parseUnified(diff: string): DiffLine[] {
  const out: DiffLine[] = [];
  let oldNo = 0;
  let newNo = 0;
  for (const raw of diff.replace(/\n$/, "").split("\n")) {
    const hunk = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(raw);
    if (hunk !== null) {
      oldNo = Number(hunk[1]);
      newNo = Number(hunk[2]);
      out.push({ kind: "hunk", text: raw });
    } else if (raw.startsWith("---") || raw.startsWith("+++") || raw.startsWith("\\") || raw.startsWith("diff ") || raw.startsWith("index ")) {
      out.push({ kind: "meta", text: raw });
    } else if (raw.startsWith("+")) {
      out.push({ kind: "add", text: raw.slice(1), new: newNo++ });
    } else if (raw.startsWith("-")) {
      out.push({ kind: "del", text: raw.slice(1), old: oldNo++ });
    } else {
      out.push({ kind: "ctx", text: raw.startsWith(" ") ? raw.slice(1) : raw, old: oldNo++, new: newNo++ });
    }
  }
  return out;
}

/**
 * Rows for the side-by-side view: context on both sides; within a change, removed lines are
 * paired with the added lines that follow them, the longer side leaving the other blank.
 */
export function sideBySide(lines: readonly DiffLine[]): SideRow[] {
  const rows: SideRow[] = [];
  let dels: DiffLine[] = [];
  let adds: DiffLine[] = [];
  const flush = (): void => {
    for (let i = 0; i < Math.max(dels.length, adds.length); i++) {
      const left = dels[i];
      const right = adds[i];
      rows.push({ kind: "pair", ...(left === undefined ? {} : { left }), ...(right === undefined ? {} : { right }) });
    }
    dels = [];
    adds = [];
  };
  for (const line of lines) {
    if (line.kind === "del") {
      // A removal after additions starts a new change block.
      if (adds.length > 0) flush();
      dels.push(line);
    } else if (line.kind === "add") {
      adds.push(line);
    } else {
      flush();
      if (line.kind === "hunk") rows.push({ kind: "hunk", text: line.text });
      else if (line.kind === "ctx") rows.push({ kind: "pair", left: line, right: line });
    }
  }
  flush();
  return rows;
}
