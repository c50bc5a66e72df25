import { sopsFormatOf } from "./format.ts";
import type { SopsFormat } from "./types.ts";

/** The SOPS format of a file's content whatever its name ({@link sopsFormatOf} without a path). */
export function detectSopsFile(content: Buffer | string): SopsFormat | undefined {
  return sopsFormatOf("", typeof content === "string" ? Buffer.from(content, "utf8") : content);
}
