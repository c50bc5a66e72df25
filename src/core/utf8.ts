import { isUtf8 } from "node:buffer";

/** Where a byte sequence stops being UTF-8: the byte offset, and the 1-based line and column of that byte. */
export interface InvalidUtf8 {
  /** 0-based offset of the first byte that is not part of a valid UTF-8 sequence. */
  readonly offset: number;
  readonly line: number;
  /** Characters before it on its line, plus one (as an editor counts them). */
  readonly column: number;
  /** The offending byte. */
  readonly byte: number;
}

/**
 * Decodes bytes that must be UTF-8 text. Answers the text, or where it is not UTF-8:
 * a byte that no UTF-8 sequence starts with, a truncated sequence, an overlong form, a
 * surrogate or a code point above U+10FFFF, as Go's YAML reader (kubectl) refuses them,
 * instead of the silent U+FFFD replacement `Buffer.toString` makes.
 */
export function decodeUtf8(bytes: Uint8Array): { readonly text: string } | { readonly invalid: InvalidUtf8 } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isUtf8(buf)) return { text: buf.toString("utf8") };
  const offset = firstInvalidUtf8(buf);
  // lastIndexOf counts a negative start from the end.
  const lineStart = offset === 0 ? 0 : buf.lastIndexOf(0x0a, offset - 1) + 1;
  let line = 1;
  for (let at = buf.indexOf(0x0a); at !== -1 && at < lineStart; at = buf.indexOf(0x0a, at + 1)) line++;
  const column = buf.subarray(lineStart, offset).toString("utf8").length + 1;
  return { invalid: { offset, line, column, byte: buf[offset] ?? 0 } };
}

/** Formats the position of invalid UTF-8 for a message: `invalid UTF-8 at byte 17 (0xff)`. */
export function describeInvalidUtf8(invalid: InvalidUtf8): string {
  return `invalid UTF-8 at byte ${invalid.offset} (0x${invalid.byte.toString(16).padStart(2, "0")})`;
}

/** The offset of the first byte that does not begin or continue a valid UTF-8 sequence; the length when all are valid. */
export function firstInvalidUtf8(buf: Uint8Array): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i] ?? 0;
    if (b < 0x80) {
      i++;
      continue;
    }
    const n = sequenceLength(buf, i);
    if (n === 0) return i;
    i += n;
  }
  return buf.length;
}

/** The length of the valid multi-byte sequence at `i`, or 0 (RFC 3629 table 3-7 ranges). */
function sequenceLength(buf: Uint8Array, i: number): number {
  const b0 = buf[i] ?? 0;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => {
    const b = buf[i + k];
    return b !== undefined && b >= lo && b <= hi;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(1) ? 2 : 0;
  if (b0 === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (b0 === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (b0 >= 0xe1 && b0 <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (b0 === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b0 >= 0xf1 && b0 <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b0 === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}
