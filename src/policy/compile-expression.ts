import { isCelError, parse, plan, type CelEnv, type CelResult, type CelValue } from "@bufbuild/cel";
import type { ParsedExpr } from "./cel-ast.ts";
import { formatType, TypeChecker, type CheckType } from "./cel-check.ts";
import { CostEstimator, type MeasuredSize, type SizeBound, type VariableSizes } from "./cel-cost.ts";
import { costGuard, uniformSizes } from "./cost-guard.ts";
import { measurableNodes, measureCelValue } from "./measure.ts";
import { PolicyVariable, policyCelEnv } from "./cel-env.ts";

/** What an expression must evaluate to: a validation is a `bool`, a messageExpression a `string`. */
export type ExpressionPurpose = "validation" | "message";

/** A compiled expression: checked, costed and planned once, run per object. */
export interface CompiledExpression {
  readonly text: string;
  /** The estimated cost for variables within these sizes. */
  estimate(sizes: VariableSizes): number;
  /**
   * Undefined when the expression may run on these variables (sized `sizes`) within the cost
   * limit, else its estimated cost.
   */
  costOverLimit(sizes: VariableSizes, values: Readonly<Record<string, CelValue>>): number | undefined;
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

const PLAIN_VARIABLES: readonly string[] = [PolicyVariable.Object, PolicyVariable.Env, PolicyVariable.Stack];

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
    const variables = opts.params ? [...PLAIN_VARIABLES, PolicyVariable.Params] : PLAIN_VARIABLES;
    const estimate = (sizes: VariableSizes, measured?: MeasuredSize) => new CostEstimator(sizes, isFunction, measured).estimate(parsed.expr).cost;
    const emptyCost = estimate(uniformSizes(variables, 0));
    if (!(emptyCost <= this.#costLimit)) {
      return { ok: false, issue: { message: `estimated cost ${formatCost(emptyCost)} exceeds the cost limit ${this.#costLimit} even for an empty object`, offset: undefined } };
    }
    const program = plan(this.#env, parsed);
    const guard = costGuard(estimate, variables, this.#costLimit);
    const probes = new Map(measurableNodes(parsed.expr, new Set(variables), isFunction).map((e) => [e.id, plan(this.#env, e)]));
    const measure = (values: Readonly<Record<string, CelValue>>) => (): MeasuredSize => {
      const memo = new Map<bigint, SizeBound>();
      return (e) => {
        const probe = probes.get(e.id);
        if (probe === undefined) return undefined;
        let size = memo.get(e.id);
        if (size === undefined) {
          const value = probe(values);
          size = isCelError(value) ? { c: 0, n: 0, l: 0, t: 0 } : measureCelValue(value);
          memo.set(e.id, size);
        }
        return size;
      };
    };
    return {
      ok: true,
      expression: {
        text,
        estimate,
        costOverLimit: (sizes, values) => guard(sizes, measure(values)),
        run: (bindings) => program(bindings),
      },
    };
  }
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
