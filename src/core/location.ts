/** A place in a repository file, 1-based, as editors and CI annotations expect. */
export interface SourceLocation {
  /** Path relative to the repository root, with forward slashes. */
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
}

/** Formats a location as `file:line:column`, leaving out what is unknown. */
export function formatLocation(loc: SourceLocation): string {
  if (loc.line === undefined) return loc.file;
  if (loc.column === undefined) return `${loc.file}:${loc.line}`;
  return `${loc.file}:${loc.line}:${loc.column}`;
}
