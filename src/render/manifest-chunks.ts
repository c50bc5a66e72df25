/** A run of whole YAML documents of a file's text, that can be parsed on its own. */
export interface TextChunk {
  /** Offset of its first character in the text. */
  readonly start: number;
  /** Offset just after its last character. */
  readonly end: number;
  /** Lines of the text before `start`. */
  readonly lineOffset: number;
}

/** Chunks are cut at the first document start after this many characters. */
export const defaultChunkSize = 64 * 1024;

/**
 * Cuts a multi-document YAML text into chunks at document start markers (`---` at the start
 * of a line, followed by a space, a tab, a line break or the end), so a large file is parsed a
 * few documents at a time and never all at once. Such a line ends whatever came before it, in
 * any context (YAML's c-forbidden), so what precedes it does not change what follows. A text
 * with `%` directive lines is one chunk: the `yaml` package carries a `%YAML` version from one
 * document to the next.
 */
export function splitDocuments(text: string, chunkSize = defaultChunkSize): TextChunk[] {
  if (hasDirectiveLines(text)) return [{ start: 0, end: text.length, lineOffset: 0 }];
  const chunks: TextChunk[] = [];
  let start = 0;
  let lineOffset = 0;
  let counted = 0;
  let lines = 0;
  for (let nl = text.indexOf("\n---", chunkSize - 1); nl !== -1; nl = text.indexOf("\n---", nl + 1)) {
    const at = nl + 1;
    if (at - start < chunkSize || !isMarkerEnd(text.charCodeAt(at + 3))) continue;
    for (let i = text.indexOf("\n", counted); i !== -1 && i < at; i = text.indexOf("\n", i + 1)) lines++;
    counted = at;
    chunks.push({ start, end: at, lineOffset });
    start = at;
    lineOffset = lines;
  }
  chunks.push({ start, end: text.length, lineOffset });
  return chunks;
}

/** True when a line starts with `%`: a directive (or text that looks like one), which the fast parser declines. */
export function hasDirectiveLines(text: string): boolean {
  return text.startsWith("%") || text.startsWith("\uFEFF%") || text.includes("\n%");
}

/** What may follow `---` for it to be a marker, as the `yaml` package's lexer decides (NaN is the end). */
function isMarkerEnd(c: number): boolean {
  return Number.isNaN(c) || c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}
