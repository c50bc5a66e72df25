import { nearestName } from "./near-names.ts";
import { outputReference, type OutputResolver } from "./outputs.ts";

const pattern = /\$(\$?)\{([^}]*)\}/g;
const varRef = /^([A-Za-z_][A-Za-z0-9_]*)(?::([=-])(.*))?$/s;

/** Variables for substitution, by name. */
export type Vars = Readonly<Record<string, string>>;

/** What decides, beyond the values set, which `${…}` are gitward's. */
export interface SubstituteOptions {
  /**
   * Every variable name gitward.yaml declares for the stack, in any environment (the names
   * set here are added). A name declared elsewhere is still gitward's where it is not set.
   */
  readonly declared?: Iterable<string>;
  /** `substitute: strict`: every `${…}` is gitward's, in multi-line text too. */
  readonly strict?: boolean;
  /** What `${outputs.<stack>.<name>}` stands for (docs/rendering.md); without it such a reference is an error where gitward owns the text. */
  readonly outputs?: OutputResolver;
}

/** Why a substitution failed, with the offending reference; positions are added by the caller. */
export class SubstitutionError extends Error {
  /** The variable's name, or the text inside `${…}` when it is not a name. */
  readonly variable: string;
  /** The whole reference as written, `${…}`. */
  readonly reference: string;
  /** Where the reference starts in {@link text}. */
  readonly index: number;
  /** The whole text that was being substituted. */
  readonly text: string;
  readonly hint: string;

  constructor(at: { variable: string; reference: string; index: number; text: string }, message: string, hint: string) {
    super(message);
    this.name = "SubstitutionError";
    this.variable = at.variable;
    this.reference = at.reference;
    this.index = at.index;
    this.text = at.text;
    this.hint = hint;
  }
}

const defineHint = "define it in the environment's or stack's vars in gitward.yaml, or give a default: ${name:=value}";

/**
 * Substitutes `${var}`, `${var:=default}` and `${var:-default}` (the Flux convention) by the
 * rule in docs/rendering.md: one-line text is a manifest field and every `${…}` in it is
 * gitward's; in multi-line text (a script or file a ConfigMap carries) only names gitward.yaml
 * declares for the stack, and names close to them, are, and the rest is left as written.
 * `$${var}` is always the literal `${var}`. Built once per stack instance.
 */
export class VarResolver {
  readonly #vars: Vars;
  readonly #declared: ReadonlySet<string>;
  readonly #strict: boolean;
  readonly #outputs: OutputResolver | undefined;

  constructor(vars: Vars, options: SubstituteOptions = {}) {
    this.#vars = vars;
    this.#declared = new Set([...(options.declared ?? []), ...Object.keys(vars)]);
    this.#strict = options.strict === true;
    this.#outputs = options.outputs;
  }

  /** Substitutes every reference in `text`; throws a {@link SubstitutionError} for the first that fails. */
  substitute(text: string): string {
    if (!text.includes("${")) return text;
    // One-line text is a manifest field; several lines are a file of another language.
    const owned = this.#strict || !text.includes("\n");
    return text.replace(pattern, (whole: string, escape: string, inner: string, index: number) => {
      if (escape === "$") return whole.slice(1);
      return this.#resolve({ variable: inner, reference: whole, index, text }, owned);
    });
  }

  #resolve(at: { variable: string; reference: string; index: number; text: string }, owned: boolean): string {
    // Outputs of other stacks are gitward's wherever they are written: no other tool spells `${outputs.a.b}`.
    const out = outputReference.exec(at.variable);
    if (out !== null) return this.#output(at, out[1] ?? "", out[2] ?? "", owned);
    const m = varRef.exec(at.variable);
    if (m === null) {
      if (!owned) return at.reference;
      const message = `invalid substitution "${at.reference}": expected \${name} or \${name:=default}`;
      throw new SubstitutionError(at, message, `for text that is not a gitward variable, write $${at.reference} (a literal ${at.reference})`);
    }
    const name = m[1] ?? "";
    const named = { ...at, variable: name };
    if (Object.hasOwn(this.#vars, name)) return this.#withOutputs(this.#vars[name] ?? "", named);
    const hasDefault = m[2] !== undefined;
    if (this.#declared.has(name)) {
      if (hasDefault) return m[3] ?? "";
      throw new SubstitutionError(named, `variable "${name}" is not defined in this environment and has no default`, defineHint);
    }
    const near = nearestName(name, this.#declared);
    if (near !== undefined) {
      throw new SubstitutionError(named, `variable "${name}" is not defined; did you mean \${${near}}?`,
        `correct the name; if ${at.reference} is not meant for gitward, write $${at.reference} or annotate the object with gitward.dev/substitute: disabled`);
    }
    if (!owned) return at.reference;
    if (hasDefault) return m[3] ?? "";
    throw new SubstitutionError(named, `variable "${name}" is not defined and has no default`, defineHint);
  }

  #output(at: { variable: string; reference: string; index: number; text: string }, stack: string, name: string, owned: boolean): string {
    if (this.#outputs === undefined) {
      if (!owned) return at.reference;
      throw new SubstitutionError(at, `${at.reference}: outputs of other stacks are not available here`, "outputs are read when a stack is rendered for an environment");
    }
    const r = this.#outputs.resolve(stack, name);
    if ("value" in r) return r.value;
    throw new SubstitutionError(at, r.error, r.hint);
  }

  /** A variable's value with the output references it holds (gitward.yaml `vars: { db: ${outputs.net.db} }`) resolved. */
  #withOutputs(value: string, at: { variable: string; reference: string; index: number; text: string }): string {
    if (!value.includes("${outputs.")) return value;
    return value.replace(pattern, (whole: string, escape: string, inner: string) => {
      if (escape === "$") return whole.slice(1);
      const out = outputReference.exec(inner);
      return out === null ? whole : this.#output({ ...at, variable: inner }, out[1] ?? "", out[2] ?? "", true);
    });
  }
}
