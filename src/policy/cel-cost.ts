import { ACCU_VAR, appendedElement, qualifiedCallName, type CallNode, type ComprehensionNode, type Expr } from "./cel-ast.ts";

/**
 * An upper bound on the size of a CEL value and of everything nested in it: `c` its own
 * elements (list items or map entries, 0 for a scalar), `n` the most elements of any list or
 * map in it, `l` its longest string (or bytes), `t` its total size (nodes plus characters).
 */
export interface SizeBound {
  readonly c: number;
  readonly n: number;
  readonly l: number;
  readonly t: number;
}

/** What an expression may cost and how big its result may be. */
export interface CostEstimate {
  readonly cost: number;
  readonly size: SizeBound;
}

/** Size bounds of the variables an expression runs with, by name. */
export type VariableSizes = Readonly<Record<string, SizeBound>>;

/** Sizes measured on the actual input for some sub-expressions (by AST id), when known. */
export type MeasuredSize = (expr: Expr) => SizeBound | undefined;

/** Cost of reading one character of a string, as Kubernetes' CEL cost model charges it. */
const TRAVERSAL = 0.1;
/** The longest text `string()` or `format` can make of one number (`%f` of 1e308). */
const NUMBER_TEXT = 400;
const SCALAR: SizeBound = { c: 0, n: 0, l: 0, t: 1 };
const EMPTY: SizeBound = { c: 0, n: 0, l: 0, t: 0 };

/** The componentwise maximum of two bounds. */
export function maxBound(a: SizeBound, b: SizeBound): SizeBound {
  return { c: Math.max(a.c, b.c), n: Math.max(a.n, b.n), l: Math.max(a.l, b.l), t: Math.max(a.t, b.t) };
}

type Scope = ReadonlyMap<string, SizeBound>;
type Rule = (a: SizeBound, b: SizeBound, c: SizeBound) => { readonly size: SizeBound; readonly work: number };

const scalar = (work: number) => ({ size: SCALAR, work });
const text = (l: number, work: number) => ({ size: { c: 0, n: 0, l, t: l + 1 }, work });
/** A part of `a` (a field, an element): as large as `a`'s largest collection. */
const partOf = (a: SizeBound): SizeBound => ({ c: a.n, n: a.n, l: a.l, t: a.t });
// Equality reads at most the smaller operand; half the sum bounds that and keeps every rule a
// polynomial with non-negative coefficients (convex), which the comprehension rule relies on.
const compare: Rule = (a, b) => scalar((TRAVERSAL * (a.t + b.t)) / 2);
const search: Rule = (a, b) => scalar(TRAVERSAL * (a.l + b.l));
const sameText: Rule = (a) => text(a.l, TRAVERSAL * a.l);
const parseText: Rule = (a) => scalar(TRAVERSAL * a.l);
const free: Rule = () => scalar(0);

/** Result size and work of each function, beyond evaluating its arguments (receiver first). */
const rules: Readonly<Record<string, Rule>> = {
  "_+_": (a, b) => ({
    size: { c: a.c + b.c, n: Math.max(a.n, b.n, a.c + b.c), l: a.l + b.l, t: a.t + b.t },
    work: TRAVERSAL * (a.l + b.l),
  }),
  "_==_": compare, "_!=_": compare, "_<_": compare, "_<=_": compare, "_>_": compare, "_>=_": compare,
  "@in": (a, b) => scalar(b.c * (1 + TRAVERSAL * a.t)),
  "_[_]": (a) => ({ size: partOf(a), work: TRAVERSAL * a.c }),
  "_?_:_": (_a, b, c) => ({ size: maxBound(b, c), work: 0 }),
  "_-_": free, "_*_": free, "_/_": free, "_%_": free, "-_": free, "!_": free,
  "_&&_": free, "_||_": free, "@not_strictly_false": free, type: free,
  dyn: (a) => ({ size: a, work: 0 }),
  size: (a) => scalar(TRAVERSAL * a.l),
  contains: search, startsWith: search, endsWith: search, indexOf: search, lastIndexOf: search,
  matches: (a, b) => scalar(b.l + TRAVERSAL * a.l * (1 + b.l)),
  charAt: (a) => text(1, TRAVERSAL * a.l),
  lowerAscii: sameText, upperAscii: sameText, trim: sameText, substring: sameText,
  replace: (a, b, c) => {
    const l = a.l + (a.l + 1) * c.l;
    return text(l, TRAVERSAL * (a.l * (1 + b.l) + l));
  },
  split: (a, b) => ({ size: { c: a.l + 1, n: a.l + 1, l: a.l, t: 2 * a.l + 2 }, work: TRAVERSAL * a.l * (1 + b.l) }),
  join: (a, b) => {
    const l = a.t + a.c * b.l;
    return text(l, a.c + TRAVERSAL * l);
  },
  format: (a, b) => {
    const l = a.l + NUMBER_TEXT * b.t;
    return text(l, b.c + TRAVERSAL * l);
  },
  "strings.quote": (a) => text(6 * a.l + 2, TRAVERSAL * (6 * a.l + 2)),
  string: (a) => text(NUMBER_TEXT + 3 * a.l, TRAVERSAL * (NUMBER_TEXT + 3 * a.l)),
  bytes: (a) => text(4 * a.l, TRAVERSAL * 4 * a.l),
  int: parseText, uint: parseText, double: parseText, bool: parseText, timestamp: parseText, duration: parseText,
  "gitward.podSpec": (a) => ({ size: partOf(a), work: 5 }),
  "gitward.containers": (a) => ({ size: { c: 3 * a.n, n: 3 * a.n, l: a.l, t: a.t }, work: 5 + 3 * a.n }),
};

/**
 * Estimates, without running it, the most work an expression can do when each variable holds
 * a value within its size bound. Each AST node costs 1; functions add work proportional to
 * what they read (see `rules`); a comprehension costs its range plus, per element of the
 * range (`c` of its bound), its condition and step. Sizes flow through the AST, so a list
 * built by `map` or `split` bounds the loops that run over it; sub-expressions whose values
 * were measured on the actual input (`measured`) use those sizes instead.
 *
 * The elements of a collection share its total size `t`, and no element's longest string
 * exceeds its own size. Every rule is a polynomial with non-negative coefficients, so the cost
 * of one iteration is convex in its element's size, and the sum over all elements is largest
 * when one element holds everything: a loop costs one iteration with an element as large as
 * the whole range (`l` and `t` both the range's `t`) plus `c - 1` iterations with empty ones.
 */
export class CostEstimator {
  readonly #variables: VariableSizes;
  readonly #unknown: SizeBound;
  readonly #isFunction: (name: string) => boolean;
  readonly #measured: MeasuredSize | undefined;

  constructor(variables: VariableSizes, isFunction: (name: string) => boolean, measured?: MeasuredSize) {
    this.#variables = variables;
    this.#unknown = Object.values(variables).reduce(maxBound, EMPTY);
    this.#isFunction = isFunction;
    this.#measured = measured;
  }

  /** The estimate for a whole expression. */
  estimate(expr: Expr): CostEstimate {
    return this.#expr(expr, new Map());
  }

  #expr(e: Expr, scope: Scope): CostEstimate {
    const estimate = this.#node(e, scope);
    const measured = this.#measured?.(e);
    return measured === undefined ? estimate : { cost: estimate.cost, size: measured };
  }

  #node(e: Expr, scope: Scope): CostEstimate {
    const kind = e.exprKind;
    switch (kind.case) {
      case "constExpr": {
        const v = kind.value.constantKind;
        const l = v.case === "stringValue" || v.case === "bytesValue" ? v.value.length : 0;
        return { cost: 1, size: { c: 0, n: 0, l, t: 1 + l } };
      }
      case "identExpr":
        return { cost: 1, size: scope.get(kind.value.name) ?? this.#variables[kind.value.name] ?? this.#unknown };
      case "selectExpr": {
        const operand = kind.value.operand === undefined ? { cost: 0, size: EMPTY } : this.#expr(kind.value.operand, scope);
        return { cost: operand.cost + 1, size: kind.value.testOnly ? SCALAR : partOf(operand.size) };
      }
      case "callExpr":
        return this.#call(kind.value, scope);
      case "listExpr":
        return this.#collection(kind.value.elements, kind.value.elements.length, scope);
      case "structExpr": {
        const parts = kind.value.entries.flatMap((entry) => [
          ...(entry.keyKind.case === "mapKey" ? [entry.keyKind.value] : []),
          ...(entry.value === undefined ? [] : [entry.value]),
        ]);
        return this.#collection(parts, kind.value.entries.length, scope);
      }
      case "comprehensionExpr":
        return this.#comprehension(kind.value, scope);
      default:
        return { cost: 1, size: SCALAR };
    }
  }

  #collection(parts: readonly Expr[], count: number, scope: Scope): CostEstimate {
    let cost = 1 + count;
    let size: SizeBound = { c: count, n: count, l: 0, t: 1 };
    for (const part of parts) {
      const p = this.#expr(part, scope);
      cost += p.cost;
      size = { c: count, n: Math.max(size.n, p.size.n), l: Math.max(size.l, p.size.l), t: size.t + p.size.t };
    }
    return { cost, size };
  }

  #call(call: CallNode, scope: Scope): CostEstimate {
    const qualified = qualifiedCallName(call, this.#isFunction);
    const operands = [...(qualified === undefined && call.target !== undefined ? [call.target] : []), ...call.args];
    const ests = operands.map((o) => this.#expr(o, scope));
    const sizes = ests.map((x) => x.size);
    const rule = rules[qualified ?? call.function];
    const applied = rule === undefined ? fallback(sizes) : rule(sizes[0] ?? EMPTY, sizes[1] ?? EMPTY, sizes[2] ?? EMPTY);
    const argCost = ests.reduce((sum, x) => sum + x.cost, 0);
    return { cost: 1 + argCost + applied.work, size: applied.size };
  }

  #comprehension(c: ComprehensionNode, scope: Scope): CostEstimate {
    const range = c.iterRange === undefined ? { cost: 0, size: EMPTY } : this.#expr(c.iterRange, scope);
    const init = c.accuInit === undefined ? { cost: 0, size: SCALAR } : this.#expr(c.accuInit, scope);
    const iterations = range.size.c;
    const whole: SizeBound = { c: range.size.n, n: range.size.n, l: range.size.t, t: range.size.t };
    const empty: SizeBound = { c: range.size.n, n: range.size.n, l: 0, t: 0 };
    const accu = this.#accumulator(c, init.size, range.size, scope, whole, empty);
    const iteration = (element: SizeBound) => {
      const inner = new Map(scope).set(c.iterVar, element).set(c.accuVar, accu);
      const cond = c.loopCondition === undefined ? 0 : this.#expr(c.loopCondition, inner).cost;
      const step = c.loopStep === undefined ? 0 : this.#expr(c.loopStep, inner).cost;
      return 2 + cond + step;
    };
    const loop = iterations === 0 ? 0 : iteration(whole) + (iterations - 1) * iteration(empty);
    const result = c.result === undefined ? { cost: 0, size: accu } : this.#expr(c.result, new Map(scope).set(c.accuVar, accu));
    return { cost: 1 + range.cost + init.cost + loop + result.cost, size: result.size };
  }

  /** The accumulator's size after the last step: a list macro adds one element per step. */
  #accumulator(c: ComprehensionNode, init: SizeBound, range: SizeBound, scope: Scope, whole: SizeBound, empty: SizeBound): SizeBound {
    const iterations = range.c;
    if (c.accuInit?.exprKind.case !== "listExpr") return maxBound(init, SCALAR);
    const element = c.loopStep === undefined || c.accuVar !== ACCU_VAR ? undefined : appendedElement(c.loopStep);
    if (element === undefined) throw new Error("unsupported comprehension: not a map or filter macro");
    if (iterations === 0) return init;
    const sizeWith = (e: SizeBound) => this.#expr(element, new Map(scope).set(c.iterVar, e).set(c.accuVar, init)).size;
    const big = sizeWith(whole);
    const small = sizeWith(empty);
    // Strings are bounded by the range's longest, not by its total as in `whole`.
    const longest = sizeWith({ ...whole, l: Math.min(whole.l, range.l) });
    const count = init.c + iterations;
    return {
      c: count,
      n: Math.max(count, big.n),
      l: Math.max(init.l, longest.l),
      t: init.t + big.t + 1 + (iterations - 1) * (small.t + 1),
    };
  }
}

function fallback(sizes: readonly SizeBound[]): { size: SizeBound; work: number } {
  const size = sizes.reduce((acc, s) => ({ c: acc.c + s.c, n: acc.n + s.n, l: acc.l + s.l, t: acc.t + s.t }), SCALAR);
  return { size, work: TRAVERSAL * size.t };
}
