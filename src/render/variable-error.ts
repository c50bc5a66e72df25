import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { SourceLocation } from "../core/location.ts";
import type { SubstitutionError } from "./var-resolver.ts";

/** A substitution that failed, at the file and line where its `${…}` is written. */
export class VariableError extends GitwardError {
  /** What failed, with the reference and the text it was in, to look for it in other files. */
  readonly failure: SubstitutionError;

  constructor(failure: SubstitutionError, location: SourceLocation) {
    super(ErrorCode.Variable, failure.message, { subject: { location }, hint: failure.hint });
    this.name = "VariableError";
    this.failure = failure;
  }
}

/**
 * Where the failed reference is written in `source[start, end)`: the occurrence with the same
 * rank as in the text that was substituted (the third `${x}` of a script is its third in the
 * file), else the first; undefined when the reference is not written there as such.
 */
export function referenceOffset(source: string, failure: SubstitutionError, start = 0, end = source.length): number | undefined {
  const { reference, text, index } = failure;
  let rank = 0;
  for (let at = text.indexOf(reference); at !== -1 && at < index; at = text.indexOf(reference, at + 1)) rank++;
  let first: number | undefined;
  let seen = 0;
  for (let at = source.indexOf(reference, start); at !== -1 && at + reference.length <= end; at = source.indexOf(reference, at + 1)) {
    first ??= at;
    if (seen++ === rank) return at;
  }
  return first;
}

