/**
 * Strings of one file's objects, each kept once. Manifests repeat the same short values
 * (`v1`, `TCP`, label values, container names) in every object: keeping one copy of each
 * roughly halves the memory their strings take (bench/RESULTS.md). Every string it gives
 * back is its own copy, not a view of the file's text ({@link ownCopy}).
 */
export class StringPool {
  readonly #strings = new Map<string, string>();

  /** The pooled copy of a string; strings longer than 64 characters, or past 20,000 kept, are only copied. */
  own(text: string): string {
    if (text.length > maxPooledLength) return ownCopy(text);
    const known = this.#strings.get(text);
    if (known !== undefined) return known;
    const copy = ownCopy(text);
    if (this.#strings.size < maxPooled) this.#strings.set(copy, copy);
    return copy;
  }
}

const maxPooledLength = 64;
const maxPooled = 20_000;

/**
 * A string that does not hold on to the text it was cut from. V8 makes a cut of 13 characters
 * or more a view of its parent, so one surviving value of a file would keep the whole file's
 * text alive as long as the objects are kept: as much memory again as the manifests' text.
 */
export function ownCopy(text: string): string {
  return text.length < 13 ? text : ` ${text}`.slice(1);
}
