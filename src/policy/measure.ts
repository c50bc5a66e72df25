import { isCelList, isCelMap, type CelValue } from "@bufbuild/cel";
import { qualifiedCallName, type Expr } from "./cel-ast.ts";
import type { SizeBound } from "./cel-cost.ts";

/** gitward's helpers that only pick parts of their argument, so their results can be measured. */
const pickers = new Set(["gitward.podSpec", "gitward.containers"]);

/**
 * The largest sub-expressions that only read from the variables (field selections, constant
 * indexes, gitward's pod spec helpers), not from comprehension variables. Evaluating them on
 * the actual input is cheap and gives exact sizes for the collections an expression loops over.
 */
export function measurableNodes(expr: Expr, globals: ReadonlySet<string>, isFunction: (name: string) => boolean): Expr[] {
  const out: Expr[] = [];
  const visit = (e: Expr | undefined, shadowed: ReadonlySet<string>): void => {
    if (e === undefined) return;
    if (e.exprKind.case !== "identExpr" && isMeasurable(e, globals, shadowed, isFunction)) {
      out.push(e);
      return;
    }
    const kind = e.exprKind;
    switch (kind.case) {
      case "selectExpr":
        visit(kind.value.operand, shadowed);
        break;
      case "callExpr":
        visit(kind.value.target, shadowed);
        for (const a of kind.value.args) visit(a, shadowed);
        break;
      case "listExpr":
        for (const el of kind.value.elements) visit(el, shadowed);
        break;
      case "structExpr":
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case === "mapKey") visit(entry.keyKind.value, shadowed);
          visit(entry.value, shadowed);
        }
        break;
      case "comprehensionExpr": {
        const c = kind.value;
        visit(c.iterRange, shadowed);
        visit(c.accuInit, shadowed);
        const inner = new Set(shadowed).add(c.iterVar).add(c.accuVar);
        visit(c.loopCondition, inner);
        visit(c.loopStep, inner);
        visit(c.result, new Set(shadowed).add(c.accuVar));
        break;
      }
      default:
        break;
    }
  };
  visit(expr, new Set());
  return out;
}

function isMeasurable(e: Expr, globals: ReadonlySet<string>, shadowed: ReadonlySet<string>, isFunction: (name: string) => boolean): boolean {
  const kind = e.exprKind;
  switch (kind.case) {
    case "identExpr":
      return globals.has(kind.value.name) && !shadowed.has(kind.value.name);
    case "selectExpr":
      return !kind.value.testOnly && kind.value.operand !== undefined && isMeasurable(kind.value.operand, globals, shadowed, isFunction);
    case "callExpr": {
      const call = kind.value;
      const [first, second] = call.args;
      if (call.function === "_[_]" && call.target === undefined && first !== undefined && second !== undefined) {
        return second.exprKind.case === "constExpr" && isMeasurable(first, globals, shadowed, isFunction);
      }
      const name = qualifiedCallName(call, isFunction);
      return name !== undefined && pickers.has(name) && call.args.length === 1 && first !== undefined && isMeasurable(first, globals, shadowed, isFunction);
    }
    default:
      return false;
  }
}

/** Measures a CEL value the way {@link SizeBound} describes. */
export function measureCelValue(value: CelValue): SizeBound {
  const stats = { n: 0, l: 0, t: 0 };
  walk(value, stats);
  const c = isCelList(value) || isCelMap(value) ? value.size : 0;
  return { c, ...stats };
}

function walk(value: CelValue, stats: { n: number; l: number; t: number }): void {
  stats.t += 1;
  if (typeof value === "string" || value instanceof Uint8Array) {
    if (value.length > stats.l) stats.l = value.length;
    stats.t += value.length;
  } else if (isCelList(value)) {
    if (value.size > stats.n) stats.n = value.size;
    for (const item of value) walk(item, stats);
  } else if (isCelMap(value)) {
    if (value.size > stats.n) stats.n = value.size;
    for (const [key, item] of value) {
      if (typeof key === "string") {
        if (key.length > stats.l) stats.l = key.length;
        stats.t += key.length;
      }
      walk(item, stats);
    }
  }
}
