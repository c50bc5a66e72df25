import { createHash } from "node:crypto";
import { isEncryptedValue, macBytesOf, OpenFailure, openValue, type PlainValue } from "./cipher.ts";
import type { CryptRules, SopsMetadata } from "./metadata.ts";
import { SopsError } from "./types.ts";

/** A leaf of a document: a scalar (null is neither decrypted nor hashed, as in sops). */
export interface ScalarNode {
  readonly kind: "scalar";
  readonly value: string | number | boolean | null;
  /** Replaces the leaf with its plaintext. */
  set(plain: PlainValue): void;
}

/** One comment line (the text after `#` or `;`). */
export interface CommentNode {
  readonly kind: "comment";
  readonly text: string;
  set(text: string): void;
}

/** A map entry: a key and its value. */
export interface MapEntry {
  readonly kind: "entry";
  readonly key: string;
  readonly value: TreeNode;
}

/** A map, in document order, with its comments where sops' stores put them. */
export interface MapNode {
  readonly kind: "map";
  readonly items: readonly (MapEntry | CommentNode)[];
}

/** A list (its indices are not part of a value's AAD path). */
export interface ListNode {
  readonly kind: "list";
  readonly items: readonly (TreeNode | CommentNode)[];
}

/** A document as sops' TreeBranch walk sees it; each format's reader builds one over its own representation. */
export type TreeNode = ScalarNode | MapNode | ListNode;

/** The outcome of decrypting a tree in place. */
export interface WalkResult {
  /** Upper-case hex SHA-512 of the values sops hashes. */
  readonly mac: string;
  /** Every decrypted value's text, comments included. */
  readonly secrets: string[];
}

/** 32 fixed bytes sops starts the hash with under `mac_only_encrypted`, so such a MAC never equals a full one. */
const macOnlyEncryptedInit = Buffer.from("8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69", "hex");

/**
 * Decrypts every value the metadata's rules say is encrypted, in place, and computes the MAC
 * exactly as sops' `Tree.Decrypt` does (document order, comments excluded, `mac_only_encrypted`).
 * `commentsKnown` is false for trees whose comments were lost in parsing (a plain JS object): the
 * comment rules then fall back to "encrypted when it has the ENC[...] form", which the MAC still checks.
 * Throws `tampered` for a failing GCM tag, `malformed` for a broken ENC[...] value.
 */
export function decryptBranches(branches: readonly MapNode[], meta: SopsMetadata, key: Buffer, commentsKnown = true): WalkResult {
  const hash = createHash("sha512");
  if (meta.macOnlyEncrypted) hash.update(macOnlyEncryptedInit);
  const secrets: string[] = [];
  const onLeaf = (node: ScalarNode | CommentNode, path: readonly string[], stack: readonly (readonly string[])[]): void => {
    const isComment = node.kind === "comment";
    const raw = isComment ? node.text : node.value;
    if (raw === null) return;
    const ruled = shouldBeEncrypted(meta.rules, path, commentsKnown ? stack : undefined, isComment);
    const encrypted = ruled ?? isEncryptedValue(raw);
    const aad = path.length === 0 ? ":" : `${path.join(":")}:`;
    if (isComment) {
      if (!encrypted) return;
      // sops keeps a comment it cannot decrypt: older versions left comments in clear.
      try {
        const plain = openValue(node.text, key, aad);
        node.set(String(plain.value));
        secrets.push(String(plain.value));
      } catch { /* kept as written */ }
      return;
    }
    let mac: Buffer;
    if (!encrypted) {
      mac = macBytesOf(raw);
    } else if (raw === "") {
      mac = Buffer.alloc(0); // sops writes an empty string unencrypted
    } else if (typeof raw !== "string") {
      throw new SopsError("tampered", `the value at ${describePath(path)} is in clear where the metadata's rules say it is encrypted`);
    } else {
      const plain = open(raw, key, aad, path);
      node.set(plain);
      if (plain.raw.length > 0) secrets.push(plain.raw.toString("utf8"));
      mac = plain.macBytes;
    }
    if (!meta.macOnlyEncrypted || encrypted) hash.update(mac);
  };
  for (const branch of branches) walkContainer(branch, [], [], onLeaf);
  return { mac: hash.digest("hex").toUpperCase(), secrets };
}

/** Opens one value, turning cipher failures into {@link SopsError}s that name the path only. */
export function open(ciphertext: string, key: Buffer, aad: string, path: readonly string[]): PlainValue {
  try {
    return openValue(ciphertext, key, aad);
  } catch (e: unknown) {
    if (!(e instanceof OpenFailure)) throw e;
    if (e.reason === "malformed") throw new SopsError("malformed", `the value at ${describePath(path)} ${e.message}`);
    throw new SopsError("tampered", `the value at ${describePath(path)} ${e.message}: it was changed, moved, or encrypted with another data key`);
  }
}

/** `a.b.c` for messages; the document root is `(top level)`. */
export function describePath(path: readonly string[]): string {
  return path.length === 0 ? "(top level)" : path.join(".");
}

type OnLeaf = (node: ScalarNode | CommentNode, path: readonly string[], stack: readonly (readonly string[])[]) => void;

// The comment stack mirrors sops' walk: one frame per map or list, comments collected since the last value.
function walkContainer(node: MapNode | ListNode, path: readonly string[], stack: readonly (readonly string[])[], onLeaf: OnLeaf): void {
  const frame: string[] = [];
  const here = [...stack, frame];
  for (const item of node.items) {
    if (item.kind === "comment") {
      frame.push(item.text);
      onLeaf(item, path, here);
      continue;
    }
    // A map entry's value is one key deeper; a list's items share the list's path, as in sops.
    if (item.kind === "entry") walkValue(item.value, [...path, item.key], here, onLeaf);
    else walkValue(item, path, here, onLeaf);
    frame.length = 0;
  }
}

function walkValue(node: TreeNode, path: readonly string[], stack: readonly (readonly string[])[], onLeaf: OnLeaf): void {
  if (node.kind === "map" || node.kind === "list") walkContainer(node, path, stack, onLeaf);
  else onLeaf(node, path, stack);
}

/**
 * sops' `shouldBeEncrypted`: whether the value at `path` (map keys only) is encrypted. Undefined
 * when a comment rule decides but the tree's comments are unknown (see {@link decryptBranches}).
 */
export function shouldBeEncrypted(rules: CryptRules, path: readonly string[], stack: readonly (readonly string[])[] | undefined, isComment: boolean): boolean | undefined {
  let encrypted = true;
  if (rules.unencryptedSuffix !== undefined && path.some((k) => k.endsWith(rules.unencryptedSuffix ?? ""))) encrypted = false;
  if (rules.encryptedSuffix !== undefined) encrypted = path.some((k) => k.endsWith(rules.encryptedSuffix ?? ""));
  if (rules.unencryptedRegex !== undefined && path.some((k) => rules.unencryptedRegex?.test(k) === true)) encrypted = false;
  if (rules.encryptedRegex !== undefined) encrypted = path.some((k) => rules.encryptedRegex?.test(k) === true);
  if (rules.unencryptedCommentRegex === undefined && rules.encryptedCommentRegex === undefined) return encrypted;
  if (stack === undefined) return undefined;
  if (rules.unencryptedCommentRegex !== undefined && stack.some((cs) => cs.some((c) => rules.unencryptedCommentRegex?.test(c) === true))) encrypted = false;
  if (rules.encryptedCommentRegex !== undefined) {
    const re = rules.encryptedCommentRegex;
    const last = stack.length - 1;
    // The comment line that matches is itself left in clear: only the lines after it are encrypted.
    encrypted = stack.some((cs, i) => cs.some((c, j) => !(isComment && i === last && j === cs.length - 1) && re.test(c)));
  }
  return encrypted;
}
