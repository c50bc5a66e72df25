import { ACCU_VAR, appendedElement, qualifiedCallName, type CallNode, type ComprehensionNode, type Expr } from "./cel-ast.ts";

/**
 * An upper bound on the size of a CEL value and everything nested in it: `n` the most
 * elements of any list or map, `l` the longest string (or bytes), `t` the total size (nodes
 * plus characters). Every component only grows along the rules below, so a bound is monotone.
 */
export interface SizeBound {
  readonly n: number;
  readonly l: number;
  readonly t: number;
}

/** What an expression may cost and how big its result may be, for inputs of a given size. */
export interface CostEstimate {
  readonly cost: number;
  readonly size: SizeBound;
}

/** Cost of reading one character of a string, as Kubernetes' CEL cost model charges it. */
const TRAVERSAL = 0.1;
/** The longest text `string()` or `format` can make of one number (`%f` of 1e308). */
const NUMBER_TEXT = 400;
const SCALAR: SizeBound = { n: 0, l: 0, t: 1 };
const EMPTY: SizeBound = { n: 0, l: 0, t: 0 };

/** The componentwise maximum of two bounds. */
export function maxBound(a: SizeBound, b: SizeBound): SizeBound {
  return { n: Math.max(a.n, b.n), l: Math.max(a.l, b.l), t: Math.max(a.t, b.t) };
}

type Scope = ReadonlyMap<string, SizeBound>;
type Rule = (a: SizeBound, b: SizeBound, c: SizeBound) => { readonly size: SizeBound; readonly work: number };

const scalar = (work: number) => ({ size: SCALAR, work });
const text = (l: number, work: number) => ({ size: { n: 0, l, t: l + 1 }, work });
const compare: Rule = (a, b) => scalar(TRAVERSAL * Math.min(a.t, b.t));
const search: Rule = (a, b) => scalar(TRAVERSAL * (a.l + b.l));
const sameText: Rule = (a) => text(a.l, TRAVERSAL * a.l);
const parseText: Rule = (a) => scalar(TRAVERSAL * a.l);
const free: Rule = () => scalar(0);

/** Result size and work of each function, beyond evaluating its arguments (receiver first). */
const rules: Readonly<Record<string, Rule>> = {
  "_+_": (a, b) => ({ size: { n: a.n + b.n, l: a.l + b.l, t: a.t + b.t }, work: TRAVERSAL * (a.l + b.l) }),
  "_==_": compare, "_!=_": compare, "_<_": compare, "_<=_": compare, "_>_": compare, "_>=_": compare,
  "@in": (a, b) => scalar(b.n * (1 + TRAVERSAL * a.t)),
  "_[_]": (a) => ({ size: a, work: TRAVERSAL * a.n }),
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
  split: (a, b) => ({ size: { n: a.l + 1, l: a.l, t: 2 * a.l + 2 }, work: TRAVERSAL * a.l * (1 + b.l) }),
  join: (a, b) => {
    const l = a.t + a.n * b.l;
    return text(l, a.n + TRAVERSAL * l);
  },
  format: (a, b) => {
    const l = a.l + NUMBER_TEXT * b.t;
    return text(l, b.n + TRAVERSAL * l);
  },
  "strings.quote": (a) => text(6 * a.l + 2, TRAVERSAL * (6 * a.l + 2)),
  string: (a) => text(NUMBER_TEXT + 3 * a.l, TRAVERSAL * (NUMBER_TEXT + 3 * a.l)),
  bytes: (a) => text(4 * a.l, TRAVERSAL * 4 * a.l),
  int: parseText, uint: parseText, double: parseText, bool: parseText, timestamp: parseText, duration: parseText,
  "gitward.podSpec": (a) => ({ size: a, work: 5 }),
  "gitward.containers": (a) => ({ size: { n: 3 * a.n, l: a.l, t: a.t }, work: 5 + 3 * a.n }),
};

/**
 * Estimates, without running it, the most work an expression can do when every variable
 * holds a value within `bindings`. Each AST node costs 1; a comprehension costs its range,
 * plus, for each element the range can hold (`n` of its size bound), one plus its condition
 * and step; functions add work proportional to what they read (see `rules`). Sizes flow
 * through the AST, so a list built by `map` or `split` bounds the loops that run over it.
 */
export class CostEstimator {
  readonly #bindings: SizeBound;
  readonly #isFunction: (name: string) => boolean;

  constructor(bindings: SizeBound, isFunction: (name: string) => boolean) {
    this.#bindings = bindings;
    this.#isFunction = isFunction;
  }

  /** The estimate for a whole expression. */
  estimate(expr: Expr): CostEstimate {
    return this.#expr(expr, new Map());
  }

  #expr(e: Expr, scope: Scope): CostEstimate {
    const kind = e.exprKind;
    switch (kind.case) {
      case "constExpr": {
        const v = kind.value.constantKind;
        const l = v.case === "stringValue" || v.case === "bytesValue" ? v.value.length : 0;
        return { cost: 1, size: { n: 0, l, t: 1 + l } };
      }
      case "identExpr":
        return { cost: 1, size: scope.get(kind.value.name) ?? this.#bindings };
      case "selectExpr": {
        const operand = kind.value.operand === undefined ? { cost: 0, size: EMPTY } : this.#expr(kind.value.operand, scope);
        return { cost: operand.cost + 1, size: kind.value.testOnly ? SCALAR : operand.size };
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
    let size: SizeBound = { n: count, l: 0, t: 1 };
    for (const part of parts) {
      const p = this.#expr(part, scope);
      cost += p.cost;
      size = { n: Math.max(size.n, p.size.n), l: Math.max(size.l, p.size.l), t: size.t + p.size.t };
    }
    return { cost, size };
  }

  #call(call: CallNode, scope: Scope): CostEstimate {
    const qualified = qualifiedCallName(call, this.#isFunction);
    const operands = [...(qualified === undefined && call.target !== undefined ? [call.target] : []), ...call.args];
    const ests = operands.map((o) => this.#expr(o, scope));
    const sizes = ests.map((x) => x.size);
    const name = qualified ?? call.function;
    const rule = rules[name];
    const applied = rule === undefined ? fallback(sizes) : rule(sizes[0] ?? EMPTY, sizes[1] ?? EMPTY, sizes[2] ?? EMPTY);
    const argCost = ests.reduce((sum, x) => sum + x.cost, 0);
    return { cost: 1 + argCost + applied.work, size: applied.size };
  }

  #comprehension(c: ComprehensionNode, scope: Scope): CostEstimate {
    const range = c.iterRange === undefined ? { cost: 0, size: EMPTY } : this.#expr(c.iterRange, scope);
    const init = c.accuInit === undefined ? { cost: 0, size: SCALAR } : this.#expr(c.accuInit, scope);
    const iterations = range.size.n;
    const iterScope = new Map(scope).set(c.iterVar, range.size);
    const accu = this.#accumulator(c, init.size, iterations, new Map(iterScope).set(c.accuVar, init.size));
    const stepScope = new Map(iterScope).set(c.accuVar, accu);
    const cond = c.loopCondition === undefined ? 0 : this.#expr(c.loopCondition, stepScope).cost;
    const step = c.loopStep === undefined ? 0 : this.#expr(c.loopStep, stepScope).cost;
    const result = c.result === undefined ? { cost: 0, size: accu } : this.#expr(c.result, new Map(scope).set(c.accuVar, accu));
    return {
      cost: 1 + range.cost + init.cost + iterations * (2 + cond + step) + result.cost,
      size: result.size,
    };
  }

  /** The accumulator's size after the last step: a list macro adds one element per step. */
  #accumulator(c: ComprehensionNode, init: SizeBound, iterations: number, scope: Scope): SizeBound {
    if (c.accuInit?.exprKind.case !== "listExpr") return maxBound(init, SCALAR);
    const element = c.loopStep === undefined || c.accuVar !== ACCU_VAR ? undefined : appendedElement(c.loopStep);
    if (element === undefined) throw new Error("unsupported comprehension: not a map or filter macro");
    const e = this.#expr(element, scope).size;
    return { n: Math.max(init.n + iterations, e.n), l: Math.max(init.l, e.l), t: init.t + iterations * (e.t + 1) };
  }
}

function fallback(sizes: readonly SizeBound[]): { size: SizeBound; work: number } {
  const size = sizes.reduce((acc, s) => ({ n: acc.n + s.n, l: acc.l + s.l, t: acc.t + s.t }), SCALAR);
  return { size, work: TRAVERSAL * size.t };
}
