import type { FieldPath, PathElement } from "./field-path.ts";
import { compareElements, decodeElement, elementId, encodeElement } from "./field-path.ts";
import type { JsonObject } from "./values.ts";
import { isObject } from "./values.ts";

interface Child {
  readonly pe: PathElement;
  readonly node: FieldSet;
}

/**
 * A set of field paths kept as a trie, the ownership unit of managedFields. A node is a
 * member when its own path is in the set ("." in FieldsV1); children hold longer paths.
 */
export class FieldSet {
  member = false;
  readonly children = new Map<string, Child>();

  /** Decodes a `fieldsV1` trie; unknown keys are skipped. */
  static fromFieldsV1(fields: unknown): FieldSet {
    const set = new FieldSet();
    if (!isObject(fields)) return set;
    for (const [key, value] of Object.entries(fields)) {
      if (key === ".") continue;
      const pe = decodeElement(key);
      if (pe === undefined) continue;
      const child = isObject(value) ? FieldSet.fromFieldsV1(value) : new FieldSet();
      if (!isObject(value) || Object.keys(value).length === 0 || Object.hasOwn(value, ".")) child.member = true;
      set.children.set(elementId(pe), { pe, node: child });
    }
    return set;
  }

  /** Encodes the trie as `fieldsV1`, children in structured-merge-diff order. */
  toFieldsV1(): JsonObject {
    const out: JsonObject = {};
    for (const { pe, node } of this.sortedChildren()) {
      const inner = node.toFieldsV1();
      out[encodeElement(pe)] = node.member && Object.keys(inner).length > 0 ? { ".": {}, ...inner } : inner;
    }
    return out;
  }

  private sortedChildren(): Child[] {
    return [...this.children.values()].sort((a, b) => compareElements(a.pe, b.pe));
  }

  /** Adds a path (the empty path is ignored: the root is never a member). */
  insert(path: FieldPath): void {
    if (path.length === 0) return;
    const [first, ...rest] = path;
    if (first === undefined) return;
    let node = this.childOrCreate(first);
    for (const pe of rest) node = node.childOrCreate(pe);
    node.member = true;
  }

  /** True when the path is a member. */
  has(path: FieldPath): boolean {
    const node = this.nodeAt(path);
    return node !== undefined && node.member && path.length > 0;
  }

  /** The sub-trie below a path, if any. */
  nodeAt(path: FieldPath): FieldSet | undefined {
    return path.reduce<FieldSet | undefined>((node, pe) => node?.children.get(elementId(pe))?.node, this.self());
  }

  private self(): FieldSet {
    return this;
  }

  private childOrCreate(pe: PathElement): FieldSet {
    const id = elementId(pe);
    const existing = this.children.get(id);
    if (existing !== undefined) return existing.node;
    const node = new FieldSet();
    this.children.set(id, { pe, node });
    return node;
  }

  /** True when no path is a member. */
  isEmpty(): boolean {
    return !this.member && [...this.children.values()].every((c) => c.node.isEmpty());
  }

  /** Every member path. */
  paths(prefix: FieldPath = []): FieldPath[] {
    const out: FieldPath[] = [];
    for (const { pe, node } of this.sortedChildren()) {
      const path = [...prefix, pe];
      if (node.member) out.push(path);
      out.push(...node.paths(path));
    }
    return out;
  }

  /** Paths in this set or the other. */
  union(other: FieldSet): FieldSet {
    const out = this.copy();
    out.addAll(other);
    return out;
  }

  private addAll(other: FieldSet): void {
    this.member ||= other.member;
    for (const [id, { pe, node }] of other.children) {
      const mine = this.children.get(id);
      if (mine === undefined) this.children.set(id, { pe, node: node.copy() });
      else mine.node.addAll(node);
    }
  }

  /** Paths in this set that are not members of the other (membership only, not subtrees). */
  difference(other: FieldSet): FieldSet {
    return this.combine(other, (mine, theirs) => mine && !theirs, false);
  }

  /** Paths in both sets. */
  intersection(other: FieldSet): FieldSet {
    return this.combine(other, (mine, theirs) => mine && theirs, true);
  }

  /** Paths in this set not at or below a member of the other. */
  recursiveDifference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    out.member = this.member;
    for (const [id, { pe, node }] of this.children) {
      const theirs = other.children.get(id)?.node;
      if (theirs?.member === true) continue;
      const child = theirs === undefined ? node.copy() : node.recursiveDifference(theirs);
      if (!child.isEmpty()) out.children.set(id, { pe, node: child });
    }
    return out;
  }

  private combine(other: FieldSet, keep: (mine: boolean, theirs: boolean) => boolean, onlyShared: boolean): FieldSet {
    const out = new FieldSet();
    for (const [id, { pe, node }] of this.children) {
      const theirs = other.children.get(id)?.node;
      if (theirs === undefined && onlyShared) continue;
      const child = theirs === undefined ? node.copy() : node.combine(theirs, keep, onlyShared);
      child.member = keep(node.member, theirs?.member ?? false);
      if (!child.isEmpty()) out.children.set(id, { pe, node: child });
    }
    return out;
  }

  /** A deep copy. */
  copy(): FieldSet {
    const out = new FieldSet();
    out.member = this.member;
    for (const [id, { pe, node }] of this.children) out.children.set(id, { pe, node: node.copy() });
    return out;
  }

  /** A set holding the given top-level fields as members (with their subtrees). */
  static ofFields(...names: string[]): FieldSet {
    const set = new FieldSet();
    for (const name of names) set.insert([{ field: name }]);
    return set;
  }

  /** Only the subtrees under the given top-level fields. */
  onlyFields(...names: string[]): FieldSet {
    const out = new FieldSet();
    for (const name of names) {
      const child = this.children.get(elementId({ field: name }));
      if (child !== undefined) out.children.set(elementId(child.pe), { pe: child.pe, node: child.node.copy() });
    }
    return out;
  }
}
