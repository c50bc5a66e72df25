import { isAlias, isCollection, isMap, isPair, isScalar, visit, type Alias, type Document, type Node } from "yaml";

/** How far gitward lets one YAML document go: aliases (weighted as the `yaml` package counts them) and nesting. */
export const yamlLimits = {
  /** Alias resolutions in one document, weighted by the aliases inside what they refer to (the billion laughs guard). */
  maxAliasCount: 100,
  /** Collections nested in one another; every stage after parsing walks objects recursively. */
  maxDepth: 256,
} as const;

/** Why a document could not become a value, and where (an offset into its source) when known. */
export interface YamlProblem {
  readonly message: string;
  readonly offset: number | undefined;
  /** True when a limit of {@link yamlLimits} was exceeded, rather than the text being wrong. */
  readonly limit: boolean;
}

/**
 * Converts a parsed document (free of syntax errors) to plain values within {@link yamlLimits}.
 * Every way `toJS` can fail, or give what is not data (a cycle through an alias), comes back as
 * a problem with the offset of the node at fault, never as an exception.
 */
export function documentToJS(doc: Document): { readonly value: unknown } | { readonly problem: YamlProblem } {
  const start = doc.contents?.range?.[0];
  const early = documentShapeProblem(doc);
  if (early !== undefined) return { problem: early };
  let value: unknown;
  try {
    // The `yaml` package counts the anchor itself too: one more lets 100 aliases of one anchor through.
    value = doc.toJS({ maxAliasCount: yamlLimits.maxAliasCount + 1 });
  } catch (e: unknown) {
    return { problem: conversionProblem(doc, e, start) };
  }
  // Aliases can nest what they refer to deeper than the text shows.
  if (aliasCount(doc) > 0 && valueDepth(value) > yamlLimits.maxDepth) return { problem: depthProblem(start) };
  return { value };
}

/**
 * What {@link documentToJS} refuses before converting anything: aliases past the limit, without
 * an anchor or in a cycle, collections nested too deep or used as keys. Checked before any
 * other walk of the document (substitution) too, since those walks recurse.
 */
export function documentShapeProblem(doc: Document): YamlProblem | undefined {
  return aliasProblem(doc) ?? shapeProblem(doc.contents);
}

/**
 * The problem for a text whose nesting overflowed the stack of the parser itself (the `yaml`
 * package's CST parser recurses), located at the first bracket or indentation deeper than the
 * limit, a guess that ignores quotes and comments; the start of the text when none is.
 */
export function stackOverflowProblem(text: string): YamlProblem {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (++depth > yamlLimits.maxDepth) return depthProblem(i);
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) depth--;
  }
  const indented = new RegExp(`^[ \\t-]{${yamlLimits.maxDepth + 1},}`, "m").exec(text);
  return depthProblem(indented?.index ?? 0);
}

/**
 * The message for a syntax error the `yaml` package reports: its first line, prefixed
 * `invalid YAML: `, except the stack overflow it catches itself while composing a document
 * nested too deep, which is the depth limit's.
 */
export function yamlErrorMessage(message: string): { readonly message: string; readonly limit: boolean } {
  if (/call stack/i.test(message)) return { message: depthProblem(undefined).message, limit: true };
  return { message: `invalid YAML: ${message.split("\n")[0] ?? message}`, limit: false };
}

/** True for the error a recursion too deep throws (V8's RangeError: Maximum call stack size exceeded). */
export function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && /call stack/i.test(e.message);
}

function depthProblem(offset: number | undefined): YamlProblem {
  return { message: `collections nested more than ${yamlLimits.maxDepth} levels deep`, offset, limit: true };
}

function conversionProblem(doc: Document, e: unknown, start: number | undefined): YamlProblem {
  const message = e instanceof Error ? e.message : String(e);
  if (message.startsWith("Excessive alias count")) {
    return { message: aliasLimitMessage(), offset: aliasOverLimit(doc)?.range?.[0] ?? start, limit: true };
  }
  if (message.startsWith("Merge sources must be")) {
    return { message: "a merge key (<<) must refer to a mapping or a list of mappings", offset: badMerge(doc) ?? start, limit: false };
  }
  return { message, offset: start, limit: false };
}

/** Aliases in document order with the anchored nodes before them, as `Alias.resolve` sees them. */
function anchorsAndAliases(doc: Document): { nodes: Node[]; ancestors: Map<Alias, readonly unknown[]> } {
  const nodes: Node[] = [];
  const ancestors = new Map<Alias, readonly unknown[]>();
  visit(doc, {
    Node(_key, node, path) {
      if (isAlias(node)) ancestors.set(node, path);
      if (isAlias(node) || (node as { anchor?: string }).anchor !== undefined) nodes.push(node);
    },
  });
  return { nodes, ancestors };
}

function aliasCount(doc: Document): number {
  let n = 0;
  visit(doc, { Alias: () => void n++ });
  return n;
}

function aliasLimitMessage(): string {
  return `more than ${yamlLimits.maxAliasCount} aliases in one document (an alias counts as many times as the aliases inside what it refers to)`;
}

/**
 * More aliases than the limit (the `yaml` package resolves each one by scanning the document,
 * so many of them are slow even when each is used once), an alias without an anchor before
 * it, or one inside the node it refers to (a cycle).
 */
function aliasProblem(doc: Document): YamlProblem | undefined {
  if (aliasCount(doc) === 0) return undefined;
  const { nodes, ancestors } = anchorsAndAliases(doc);
  const over = [...ancestors.keys()][yamlLimits.maxAliasCount];
  if (over !== undefined) return { message: aliasLimitMessage(), offset: over.range?.[0], limit: true };
  for (const [alias, path] of ancestors) {
    const target = anchorOf(alias, nodes);
    if (target === undefined) {
      return { message: `alias *${alias.source} has no anchor &${alias.source} before it`, offset: alias.range?.[0], limit: false };
    }
    if (path.includes(target)) {
      return { message: `alias *${alias.source} is inside the node it refers to`, offset: alias.range?.[0], limit: false };
    }
  }
  return undefined;
}

function anchorOf(alias: Alias, nodes: readonly Node[]): Node | undefined {
  let found: Node | undefined;
  for (const node of nodes) {
    if (node === alias) break;
    if ((node as { anchor?: string }).anchor === alias.source) found = node;
  }
  return found;
}

/**
 * The alias at which the `yaml` package's count passes the limit, found by counting as it
 * does (`Alias.resolve`, `getAliasCount`): each resolution of an anchor adds one to its count,
 * weighted by the largest count of the aliases inside it.
 */
function aliasOverLimit(doc: Document): Alias | undefined {
  const { nodes } = anchorsAndAliases(doc);
  const data = new Map<Node, { count: number; weight: number }>();
  const weight = (node: unknown): number => {
    if (isAlias(node)) {
      const target = anchorOf(node, nodes);
      const d = target === undefined ? undefined : data.get(target);
      return d === undefined ? 0 : d.count * d.weight;
    }
    if (isCollection(node)) return node.items.reduce((m: number, item) => Math.max(m, weight(item)), 0);
    if (isPair(node)) return Math.max(weight(node.key), weight(node.value));
    return 1;
  };
  for (const node of nodes) {
    if (!isAlias(node)) {
      data.set(node, { count: 1, weight: 0 });
      continue;
    }
    const target = anchorOf(node, nodes);
    const d = target === undefined ? undefined : data.get(target);
    if (target === undefined || d === undefined) continue;
    d.count += 1;
    if (d.weight === 0) d.weight = weight(target);
    if (d.count * d.weight > yamlLimits.maxAliasCount + 1) return node;
  }
  return undefined;
}

/** The offset of the first merge key whose value is neither a mapping nor an alias of one (nor a list of them). */
function badMerge(doc: Document): number | undefined {
  let at: number | undefined;
  visit(doc, {
    Pair(_key, pair) {
      if (!isScalar(pair.key) || pair.key.source !== "<<" || at !== undefined) return;
      const v = pair.value;
      const items = isCollection(v) && !isMap(v) ? v.items : [v];
      const ok = items.every((item) => isMap(item) || (isAlias(item) && isMap(item.resolve(doc))));
      if (!ok) at = (pair.key.range ?? undefined)?.[0];
    },
  });
  return at;
}

/**
 * The first collection nested deeper than the limit, or used as a mapping key (which a JS
 * object cannot hold: the `yaml` package would make it text and print a warning; kubectl
 * refuses it), walking without recursion.
 */
function shapeProblem(root: unknown): YamlProblem | undefined {
  const stack: { node: unknown; depth: number }[] = [{ node: root, depth: 1 }];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const { node, depth } = top;
    if (!isCollection(node)) continue;
    if (depth > yamlLimits.maxDepth) return depthProblem((node as Node).range?.[0]);
    for (let i = node.items.length - 1; i >= 0; i--) {
      const item = node.items[i];
      if (!isPair(item)) {
        stack.push({ node: item, depth: depth + 1 });
        continue;
      }
      if (isCollection(item.key)) {
        return { message: "a mapping key must be a scalar, not a mapping or a list", offset: item.key.range?.[0], limit: false };
      }
      stack.push({ node: item.value, depth: depth + 1 });
    }
  }
  return undefined;
}

/** The nesting depth of a plain value (1 for a flat object), without recursion. */
export function valueDepth(value: unknown): number {
  let max = 0;
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 1 }];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const { v, depth } = top;
    if (v === null || typeof v !== "object") continue;
    if (depth > max) max = depth;
    if (max > yamlLimits.maxDepth) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push({ v: child, depth: depth + 1 });
  }
  return max;
}
