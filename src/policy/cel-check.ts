import type { CelEnv, CelType } from "@bufbuild/cel";
import { qualifiedCallName, type CallNode, type ComprehensionNode, type Expr, type ParsedExpr } from "./cel-ast.ts";

/**
 * A static CEL type as the checker tracks it. Lists and maps carry element types; values
 * read from objects are `dyn`, which is compatible with everything.
 */
export type CheckType =
  | "dyn"
  | "bool"
  | "int"
  | "uint"
  | "double"
  | "string"
  | "bytes"
  | "null"
  | "timestamp"
  | "duration"
  | "type"
  | { readonly list: CheckType }
  | { readonly map: readonly [CheckType, CheckType] };

/** A type error: what is wrong and where in the expression text (character offset). */
export interface CheckIssue {
  readonly message: string;
  readonly offset: number | undefined;
}

/** The outcome of {@link TypeChecker.check}: the expression's type or its first type error. */
export type CheckOutcome = { readonly ok: true; readonly type: CheckType } | { readonly ok: false; readonly issue: CheckIssue };

interface Overload {
  readonly target: CheckType | undefined;
  readonly args: readonly CheckType[];
  readonly result: CheckType;
}

type Scope = ReadonlyMap<string, CheckType>;

class CheckFailure extends Error {
  readonly exprId: bigint;
  constructor(message: string, exprId: bigint) {
    super(message);
    this.exprId = exprId;
  }
}

/** Type names usable as values, e.g. `type(x) == string`. */
const typeIdents = new Set(["bool", "int", "uint", "double", "string", "bytes", "list", "map", "null_type", "type", "dyn"]);

/**
 * Type-checks parsed CEL against declared variables and the functions of an environment.
 * @bufbuild/cel 0.6 parses and runs CEL but its own checker handles only constants and
 * identifiers, so gitward checks here: undeclared names, unknown functions, overloads that
 * cannot match, field selection on scalars, non-iterable comprehension ranges.
 */
export class TypeChecker {
  readonly #overloads: ReadonlyMap<string, readonly Overload[]>;
  readonly #globals: Scope;

  constructor(env: CelEnv, globals: Scope) {
    const overloads = new Map<string, Overload[]>();
    for (const f of env.funcs) {
      const list = overloads.get(f.name) ?? [];
      list.push({
        target: f.target === undefined ? undefined : fromCelType(f.target),
        args: f.arguments.map(fromCelType),
        result: fromCelType(f.result),
      });
      overloads.set(f.name, list);
    }
    this.#overloads = overloads;
    this.#globals = globals;
  }

  /** True when `name` is a declared function, e.g. `strings.quote`. */
  isFunction(name: string): boolean {
    return this.#overloads.has(name);
  }

  /** Checks an expression; never throws for an ill-typed expression. */
  check(parsed: ParsedExpr): CheckOutcome {
    try {
      return { ok: true, type: this.#expr(parsed.expr, this.#globals) };
    } catch (e: unknown) {
      if (!(e instanceof CheckFailure)) throw e;
      return { ok: false, issue: { message: e.message, offset: parsed.sourceInfo?.positions[e.exprId.toString()] } };
    }
  }

  #expr(e: Expr, scope: Scope): CheckType {
    const kind = e.exprKind;
    switch (kind.case) {
      case "constExpr":
        return constType(kind.value.constantKind.case);
      case "identExpr": {
        const t = scope.get(kind.value.name);
        if (t !== undefined) return t;
        if (typeIdents.has(kind.value.name)) return "type";
        throw new CheckFailure(`undeclared reference to '${kind.value.name}'`, e.id);
      }
      case "selectExpr": {
        if (kind.value.operand === undefined) throw new CheckFailure("invalid field selection", e.id);
        const operand = this.#expr(kind.value.operand, scope);
        const field = selectField(operand);
        if (field === undefined) {
          throw new CheckFailure(`type '${formatType(operand)}' does not support field selection ('.${kind.value.field}')`, e.id);
        }
        return kind.value.testOnly ? "bool" : field;
      }
      case "callExpr":
        return this.#call(kind.value, e.id, scope);
      case "listExpr":
        return { list: unifyAll(kind.value.elements.map((el) => this.#expr(el, scope))) };
      case "structExpr": {
        if (kind.value.messageName !== "") throw new CheckFailure(`unknown type '${kind.value.messageName}'`, e.id);
        const keys: CheckType[] = [];
        const values: CheckType[] = [];
        for (const entry of kind.value.entries) {
          if (entry.keyKind.case !== "mapKey" || entry.value === undefined) throw new CheckFailure("invalid map entry", e.id);
          keys.push(this.#expr(entry.keyKind.value, scope));
          values.push(this.#expr(entry.value, scope));
        }
        return { map: [unifyAll(keys), unifyAll(values)] };
      }
      case "comprehensionExpr":
        return this.#comprehension(kind.value, e.id, scope);
      default:
        throw new CheckFailure("unsupported expression", e.id);
    }
  }

  #call(call: CallNode, id: bigint, scope: Scope): CheckType {
    const qualified = qualifiedCallName(call, (n) => this.isFunction(n));
    if (qualified !== undefined) return this.#resolve(qualified, undefined, call.args.map((a) => this.#expr(a, scope)), id);
    const target = call.target === undefined ? undefined : this.#expr(call.target, scope);
    const args = call.args.map((a) => this.#expr(a, scope));
    switch (call.function) {
      case "_&&_":
      case "_||_":
      case "@not_strictly_false":
        for (const a of args) this.#expect(a, "bool", call.function, id);
        return "bool";
      case "_?_:_":
        this.#expect(args[0] ?? "dyn", "bool", "?:", id);
        return unify(args[1] ?? "dyn", args[2] ?? "dyn");
      case "_[_]":
        return indexType(args[0] ?? "dyn", args[1] ?? "dyn", id);
      case "has":
        throw new CheckFailure("invalid argument to has() macro: it takes a field selection, e.g. has(object.spec.replicas)", id);
      default:
        return this.#resolve(call.function, target, args, id);
    }
  }

  #resolve(name: string, target: CheckType | undefined, args: readonly CheckType[], id: bigint): CheckType {
    const group = this.#overloads.get(name);
    if (group === undefined) throw new CheckFailure(`undeclared reference to function '${name}'`, id);
    const matches = group.filter(
      (o) =>
        (o.target === undefined) === (target === undefined) &&
        (o.target === undefined || target === undefined || assignable(target, o.target)) &&
        o.args.length === args.length &&
        o.args.every((p, i) => assignable(args[i] ?? "dyn", p)),
    );
    const first = matches[0];
    if (first === undefined) {
      const recv = target === undefined ? "" : `${formatType(target)}.`;
      throw new CheckFailure(`found no matching overload for '${displayName(name)}' applied to '${recv}(${args.map(formatType).join(", ")})'`, id);
    }
    return matches.every((m) => sameType(m.result, first.result)) ? first.result : "dyn";
  }

  #comprehension(c: ComprehensionNode, id: bigint, scope: Scope): CheckType {
    if (c.iterRange === undefined || c.accuInit === undefined || c.loopCondition === undefined || c.loopStep === undefined || c.result === undefined) {
      throw new CheckFailure("invalid comprehension", id);
    }
    const range = this.#expr(c.iterRange, scope);
    const iter = rangeElement(range);
    if (iter === undefined) {
      throw new CheckFailure(`expression of type '${formatType(range)}' cannot be the range of a comprehension (must be list, map, or dynamic)`, id);
    }
    const accu = this.#expr(c.accuInit, scope);
    const inner = new Map(scope).set(c.iterVar, iter).set(c.accuVar, accu);
    this.#expect(this.#expr(c.loopCondition, inner), "bool", "comprehension condition", id);
    const step = this.#expr(c.loopStep, inner);
    const outer = new Map(scope).set(c.accuVar, unify(accu, step));
    return this.#expr(c.result, outer);
  }

  #expect(actual: CheckType, want: CheckType, what: string, id: bigint): void {
    if (!assignable(actual, want)) throw new CheckFailure(`${displayName(what)} expects ${formatType(want)}, got ${formatType(actual)}`, id);
  }
}

/** Formats a type as CEL writes it: `int`, `list(string)`, `map(string, dyn)`. */
export function formatType(t: CheckType): string {
  if (typeof t === "string") return t === "null" ? "null_type" : t === "timestamp" ? "google.protobuf.Timestamp" : t === "duration" ? "google.protobuf.Duration" : t;
  if ("list" in t) return `list(${formatType(t.list)})`;
  return `map(${formatType(t.map[0])}, ${formatType(t.map[1])})`;
}

/** True when a value of type `actual` may be passed where `param` is declared. */
export function assignable(actual: CheckType, param: CheckType): boolean {
  if (actual === "dyn" || param === "dyn") return true;
  if (typeof actual === "string" || typeof param === "string") return actual === param;
  if ("list" in actual) return "list" in param && assignable(actual.list, param.list);
  return "map" in param && assignable(actual.map[0], param.map[0]) && assignable(actual.map[1], param.map[1]);
}

function sameType(a: CheckType, b: CheckType): boolean {
  if (typeof a === "string" || typeof b === "string") return a === b;
  if ("list" in a) return "list" in b && sameType(a.list, b.list);
  return "map" in b && sameType(a.map[0], b.map[0]) && sameType(a.map[1], b.map[1]);
}

function unify(a: CheckType, b: CheckType): CheckType {
  if (sameType(a, b)) return a;
  if (typeof a !== "string" && typeof b !== "string") {
    if ("list" in a && "list" in b) return { list: unify(a.list, b.list) };
    if ("map" in a && "map" in b) return { map: [unify(a.map[0], b.map[0]), unify(a.map[1], b.map[1])] };
  }
  return "dyn";
}

function unifyAll(types: readonly CheckType[]): CheckType {
  const [first, ...rest] = types;
  return first === undefined ? "dyn" : rest.reduce(unify, first);
}

function selectField(t: CheckType): CheckType | undefined {
  if (t === "dyn") return "dyn";
  if (typeof t !== "string" && "map" in t && assignable("string", t.map[0])) return t.map[1];
  return undefined;
}

function indexType(operand: CheckType, index: CheckType, id: bigint): CheckType {
  if (operand === "dyn") return "dyn";
  if (typeof operand !== "string") {
    if ("list" in operand) {
      if (index === "dyn" || index === "int" || index === "uint" || index === "double") return operand.list;
      throw new CheckFailure(`list index must be int, got ${formatType(index)}`, id);
    }
    if (assignable(index, operand.map[0])) return operand.map[1];
    throw new CheckFailure(`map key must be ${formatType(operand.map[0])}, got ${formatType(index)}`, id);
  }
  throw new CheckFailure(`type '${formatType(operand)}' does not support indexing`, id);
}

function rangeElement(t: CheckType): CheckType | undefined {
  if (t === "dyn") return "dyn";
  if (typeof t === "string") return undefined;
  return "list" in t ? t.list : t.map[0];
}

function constType(kind: string | undefined): CheckType {
  switch (kind) {
    case "boolValue":
      return "bool";
    case "int64Value":
      return "int";
    case "uint64Value":
      return "uint";
    case "doubleValue":
      return "double";
    case "stringValue":
      return "string";
    case "bytesValue":
      return "bytes";
    case "nullValue":
      return "null";
    default:
      return "dyn";
  }
}

function fromCelType(t: CelType): CheckType {
  switch (t.kind) {
    case "list":
      return { list: fromCelType(t.element) };
    case "map":
      return { map: [fromCelType(t.key), fromCelType(t.value)] };
    case "object":
      return t.name === "google.protobuf.Timestamp" ? "timestamp" : t.name === "google.protobuf.Duration" ? "duration" : "dyn";
    case "scalar":
      return t.name === "null_type" ? "null" : t.name;
  }
}

const operatorNames: Readonly<Record<string, string>> = {
  "_+_": "+", "_-_": "-", "_*_": "*", "_/_": "/", "_%_": "%", "-_": "-", "!_": "!",
  "_==_": "==", "_!=_": "!=", "_<_": "<", "_<=_": "<=", "_>_": ">", "_>=_": ">=", "@in": "in",
  "_&&_": "&&", "_||_": "||", "@not_strictly_false": "all/exists condition",
};

function displayName(name: string): string {
  return operatorNames[name] ?? name;
}
