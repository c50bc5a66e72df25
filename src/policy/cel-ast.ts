import type { parse } from "@bufbuild/cel";

/** A parsed CEL expression: the AST and its source information (offsets, macro calls). */
export type ParsedExpr = ReturnType<typeof parse>;
/** One node of a CEL AST. */
export type Expr = ParsedExpr["expr"];
/** A call node's value: function name, optional receiver, arguments. */
export type CallNode = Extract<Expr["exprKind"], { case: "callExpr" }>["value"];
/** A comprehension node's value, as the parser expands macros into. */
export type ComprehensionNode = Extract<Expr["exprKind"], { case: "comprehensionExpr" }>["value"];

/** The accumulator variable the parser's macro expansions use. */
export const ACCU_VAR = "@result";

/**
 * The dotted name a call receiver spells, e.g. `strings` in `strings.quote(x)`, or undefined
 * when the receiver is not a plain identifier chain.
 */
export function qualifiedName(expr: Expr): string | undefined {
  const kind = expr.exprKind;
  if (kind.case === "identExpr") return kind.value.name;
  if (kind.case === "selectExpr" && !kind.value.testOnly && kind.value.operand !== undefined) {
    const parent = qualifiedName(kind.value.operand);
    return parent === undefined ? undefined : `${parent}.${kind.value.field}`;
  }
  return undefined;
}

/** The full function name of a call: `strings.quote` for a qualified call, else the plain name. */
export function qualifiedCallName(call: CallNode, isFunction: (name: string) => boolean): string | undefined {
  if (call.target === undefined) return undefined;
  const qual = qualifiedName(call.target);
  if (qual === undefined) return undefined;
  const name = `${qual}.${call.function}`;
  return isFunction(name) ? name : undefined;
}

/**
 * The element a list macro (`map`, `filter`) appends to its accumulator each step:
 * `@result + [e]`, possibly under a `test ? @result + [e] : @result` conditional.
 */
export function appendedElement(step: Expr): Expr | undefined {
  if (step.exprKind.case !== "callExpr") return undefined;
  const call = step.exprKind.value;
  if (call.function === "_?_:_") {
    const whenTrue = call.args[1];
    return whenTrue === undefined ? undefined : appendedElement(whenTrue);
  }
  if (call.function !== "_+_" || call.args.length !== 2) return undefined;
  const [accu, list] = call.args;
  if (accu?.exprKind.case !== "identExpr" || accu.exprKind.value.name !== ACCU_VAR) return undefined;
  if (list?.exprKind.case !== "listExpr" || list.exprKind.value.elements.length !== 1) return undefined;
  return list.exprKind.value.elements[0];
}
