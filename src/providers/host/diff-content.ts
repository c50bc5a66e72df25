import { createHash } from "node:crypto";
import { maskSecretsInText } from "../../core/mask-secrets.ts";
import { unifiedHunks } from "../../core/text-diff.ts";
import type { HostFileSpec } from "./kinds.ts";

/** Content larger than this is compared, not shown line by line. */
const maxDiffBytes = 256 * 1024;

/** Anyone on the host may read a file with this bit (o+r); without it, its content is not shown. */
const worldReadable = 0o004;

/**
 * Why a file's content is not shown in a diff, or undefined when it may be (after secret
 * patterns): it is marked `sensitive`, or its mode, desired or live, keeps other users from
 * reading it. Live content of such a file was never in Git: a diff must not be the way to read it.
 */
export function maskReason(spec: HostFileSpec, liveMode?: number): string | undefined {
  if (spec.sensitive) return "sensitive";
  if ((spec.mode & worldReadable) === 0) return `mode ${octal(spec.mode)}`;
  if (liveMode !== undefined && (liveMode & worldReadable) === 0) return `live mode ${octal(liveMode)}`;
  return undefined;
}

/** The content part of a diff for a File that does not exist yet: its text, or its size and hash when masked. */
export function createdContent(spec: HostFileSpec): string {
  const reason = maskReason(spec);
  if (reason !== undefined) return `# content (masked: ${reason}): ${spec.content.length} bytes, sha256 ${digest(spec.content)}`;
  if (spec.content.length > maxDiffBytes) return `# content: ${spec.content.length} bytes`;
  return unifiedHunks("", shown(spec.content));
}

/**
 * The content part of a diff for a File whose content differs (live → desired): a unified diff
 * of both texts with secret patterns masked, or only sizes and hashes when the content is
 * masked (see {@link maskReason}). `live` is undefined when it was too large to read.
 */
export function changedContent(spec: HostFileSpec, live: Buffer | undefined, liveMode: number): string {
  const reason = maskReason(spec, liveMode);
  if (reason !== undefined) {
    const size = live === undefined ? "?" : String(live.length);
    const hash = live === undefined ? "?" : digest(live);
    return `# content differs (masked: ${reason}): ${size} → ${spec.content.length} bytes, sha256 ${hash} → ${digest(spec.content)}`;
  }
  if (live === undefined || live.length > maxDiffBytes || spec.content.length > maxDiffBytes) {
    return `# content differs (${live?.length ?? "?"} bytes live, ${spec.content.length} desired)`;
  }
  const before = shown(live);
  const after = shown(spec.content);
  // Two texts that differ only in what masking hid would show as no change at all.
  return before === after ? "# content differs only in values masked as secrets" : unifiedHunks(before, after);
}

function shown(content: Buffer): string {
  return maskSecretsInText(content.toString("utf8"));
}

/** The first 12 hex digits of the SHA-256 of the content, enough to tell versions apart and to match `sha256sum`. */
function digest(content: Buffer): string {
  return `${createHash("sha256").update(content).digest("hex").slice(0, 12)}…`;
}

/** A mode as diffs show it: `0644`. */
export function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, "0")}`;
}
