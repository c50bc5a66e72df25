import { parse, plan, type CelEnv, type CelResult, type CelValue } from "@bufbuild/cel";
import type { ParsedExpr } from "./cel-ast.ts";
import { formatType, TypeChecker, type CheckType } from "./cel-check.ts";
import { CostEstimator, type SizeBound } from "./cel-cost.ts";
import { PolicyVariable, policyCelEnv } from "./cel-env.ts";

/** What an expression must evaluate to: a validation is a `bool`, a messageExpression a `string`. */
export type ExpressionPurpose = "validation" | "message";

/** A compiled expression: checked, costed and planned once, run per object. */
export interface CompiledExpression {
  readonly text: string;
  /** The estimated cost for inputs within `size`. */
  estimate(size: SizeBound): number;
  /** Undefined when inputs within `size` stay within the cost limit, else the estimated cost. */
  costOverLimit(size: SizeBound): number | undefined;
  /** Runs the expression; CEL reports failures as values, never by throwing. */
  run(bindings: Readonly<Record<string, CelValue>>): CelResult;
}

/** A compile problem, at a character offset of the expression text when known. */
export interface CompileIssue {
  readonly message: string;
  readonly offset: number | undefined;
}

/** The outcome of {@link ExpressionCompiler.compile}. */
export type CompileOutcome = { readonly ok: true; readonly expression: CompiledExpression } | { readonly ok: false; readonly issue: CompileIssue };

/** The upper end of the search for `safeSize`: beyond any object gitward would render. */
const MAX_SAFE_SIZE = 2 ** 40;

const mapOf = (value: CheckType): CheckType => ({ map: ["string", value] });

/**
 * Compiles policy expressions in one CEL environment: parse, type-check against the
 * declared variables (`object`, `env`, `stack`, and `params` for built-in policies), check the
 * result type, and bound the cost.
 */
export class ExpressionCompiler {
  readonly #env: CelEnv;
  readonly #checkers: { readonly plain: TypeChecker; readonly withParams: TypeChecker };
  readonly #costLimit: number;

  constructor(costLimit: number) {
    this.#env = policyCelEnv();
    const globals = new Map<string, CheckType>([
      [PolicyVariable.Object, mapOf("dyn")],
      [PolicyVariable.Env, mapOf("dyn")],
      [PolicyVariable.Stack, mapOf("string")],
    ]);
    this.#checkers = {
      plain: new TypeChecker(this.#env, globals),
      withParams: new TypeChecker(this.#env, new Map(globals).set(PolicyVariable.Params, mapOf("dyn"))),
    };
    this.#costLimit = costLimit;
  }

  /** The cost limit expressions are compiled and evaluated against. */
  get costLimit(): number {
    return this.#costLimit;
  }

  /** Compiles one expression; never throws for a bad expression. */
  compile(text: string, purpose: ExpressionPurpose, opts: { params: boolean }): CompileOutcome {
    let parsed: ParsedExpr;
    try {
      parsed = parse(text);
    } catch (e: unknown) {
      return { ok: false, issue: syntaxIssue(e) };
    }
    const checker = opts.params ? this.#checkers.withParams : this.#checkers.plain;
    const checked = checker.check(parsed);
    if (!checked.ok) return { ok: false, issue: { message: `type error: ${checked.issue.message}`, offset: checked.issue.offset } };
    const want = purpose === "validation" ? "bool" : "string";
    if (checked.type !== want && checked.type !== "dyn") {
      return { ok: false, issue: { message: `must evaluate to ${want}, but its type is ${formatType(checked.type)}`, offset: undefined } };
    }
    const isFunction = (name: string) => checker.isFunction(name);
    const estimate = (size: SizeBound) => new CostEstimator(size, isFunction).estimate(parsed.expr).cost;
    const emptyCost = estimate({ n: 0, l: 0, t: 0 });
    if (!(emptyCost <= this.#costLimit)) {
      return { ok: false, issue: { message: `estimated cost ${formatCost(emptyCost)} exceeds the cost limit ${this.#costLimit} even for an empty object`, offset: undefined } };
    }
    const program = plan(this.#env, parsed);
    const guard = costGuard(estimate, this.#costLimit);
    return { ok: true, expression: { text, estimate, costOverLimit: guard, run: (bindings) => program(bindings) } };
  }
}

/** Distinct sizes whose estimates one expression remembers before starting afresh. */
const GUARD_CACHE_LIMIT = 4096;

/**
 * Decides cheaply whether inputs of a size may run. Inputs within the largest "cube" known to
 * be safe pass at once; others are estimated at their size rounded up to a grid of quarter
 * powers of two (sound, as the estimate is monotone) and the answer is remembered per grid
 * cell; only when that exceeds the limit is the exact size estimated.
 */
function costGuard(estimate: (size: SizeBound) => number, limit: number): (size: SizeBound) => number | undefined {
  const safeSize = largestSafeSize(estimate, limit);
  const cache = new Map<string, boolean>();
  return (size) => {
    if (size.n <= safeSize && size.l <= safeSize && size.t <= safeSize) return undefined;
    const rounded = { n: roundUp(size.n), l: roundUp(size.l), t: roundUp(size.t) };
    const key = `${rounded.n}:${rounded.l}:${rounded.t}`;
    let ok = cache.get(key);
    if (ok === undefined) {
      if (cache.size >= GUARD_CACHE_LIMIT) cache.clear();
      ok = estimate(rounded) <= limit;
      cache.set(key, ok);
    }
    if (ok) return undefined;
    const exact = estimate(size);
    return exact <= limit ? undefined : exact;
  };
}

function roundUp(x: number): number {
  return x <= 1 ? x : 2 ** (Math.ceil(4 * Math.log2(x)) / 4);
}

/** Binary search for the largest k with estimate(k, k, k) within the limit; the estimate is monotone. */
function largestSafeSize(estimate: (size: SizeBound) => number, limit: number): number {
  let lo = 0;
  let hi = MAX_SAFE_SIZE;
  if (estimate({ n: hi, l: hi, t: hi }) <= limit) return hi;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (estimate({ n: mid, l: mid, t: mid }) <= limit) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Formats a cost estimate for messages: integers as such, huge ones in exponent form. */
export function formatCost(cost: number): string {
  if (!Number.isFinite(cost) || Number.isNaN(cost)) return "unbounded";
  return cost < 1e9 ? String(Math.ceil(cost)) : cost.toExponential(1);
}

function syntaxIssue(e: unknown): CompileIssue {
  const message = e instanceof Error ? e.message : String(e);
  const offset = (e as { location?: { start?: { offset?: unknown } } } | null)?.location?.start?.offset;
  return {
    message: `syntax error: ${message.replace(/^<input>:\d+:\d+: /, "")}`,
    offset: typeof offset === "number" ? offset : undefined,
  };
}
