import { ConfigError, type ConfigIssue } from "../config/config-error.ts";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { SourceLocation } from "../core/location.ts";
import { formatLocation } from "../core/location.ts";
import { formatFieldPath } from "../core/yaml-positions.ts";
import { decodeUtf8, describeInvalidUtf8 } from "../core/utf8.ts";
import { builtinPolicies, type BuiltinPolicy } from "./builtins.ts";
import { toCelInput, type CelInputValue } from "./cel-value.ts";
import { ExpressionCompiler, type CompiledExpression, type ExpressionPurpose } from "./compile-expression.ts";
import type { CompiledPolicy, CompiledValidation } from "./compiled-policy.ts";
import type { PolicyDocument } from "./document-schema.ts";
import { compileMatch } from "./match.ts";
import { CompiledPolicySet } from "./policy-set.ts";
import { isPolicyFile, readPolicyDocuments, validatePolicyDocument, type PolicySourceDocument } from "./policy-files.ts";
import { defaultPolicyLimits, type BuiltinSelection, type Enforcement, type PolicyLimits, type PolicySet } from "./types.ts";

/** What {@link loadPolicies} reads. */
export interface LoadPoliciesInput {
  /** Every file under the policies directory, by repository-relative path; only `*.yaml|*.yml` are read. */
  readonly files: ReadonlyMap<string, Buffer>;
  /** Built-in policies gitward.yaml turns on. */
  readonly builtins: readonly BuiltinSelection[];
  /** gitward.yaml's path, where problems with `builtins` are reported. */
  readonly configFile: string;
  readonly limits?: PolicyLimits;
  /**
   * The environments and stacks gitward.yaml defines. When given, a policy naming another one
   * (in `environments` or `match`) is an error rather than a policy that silently never applies.
   */
  readonly known?: { readonly environments: readonly string[]; readonly stacks: readonly string[] };
}

/**
 * Loads and compiles policies once. Throws a {@link ConfigError} listing every problem with
 * file:line:column: YAML syntax, schema violations (unknown keys included), duplicate names,
 * CEL syntax and type errors, expressions that are not boolean, unknown built-ins and bad params.
 */
export function loadPolicies(input: LoadPoliciesInput): PolicySet {
  const limits = input.limits ?? defaultPolicyLimits();
  if (!Number.isFinite(limits.costLimit) || limits.costLimit <= 0) {
    throw new GitwardError(ErrorCode.Config, `policy cost limit must be a positive number, got ${limits.costLimit}`);
  }
  const loader = new Loader(new ExpressionCompiler(limits.costLimit), input);
  for (const file of [...input.files.keys()].filter(isPolicyFile).sort()) {
    const decoded = decodeUtf8(input.files.get(file) ?? Buffer.alloc(0));
    if ("text" in decoded) loader.loadFile(file, decoded.text);
    else {
      const { line, column } = decoded.invalid;
      loader.issues.push({ location: { file, line, column }, keyPath: "", message: `${describeInvalidUtf8(decoded.invalid)}: policy files must be UTF-8 text` });
    }
  }
  input.builtins.forEach((selection, i) => loader.loadBuiltin(selection, i));
  if (loader.issues.length > 0) throw new ConfigError(loader.issues);
  return new CompiledPolicySet(loader.policies, limits.costLimit);
}

class Loader {
  readonly issues: ConfigIssue[] = [];
  readonly policies: CompiledPolicy[] = [];
  readonly #seen = new Map<string, SourceLocation & { builtin: boolean }>();
  readonly #compiler: ExpressionCompiler;
  readonly #input: LoadPoliciesInput;
  readonly #builtins: ReadonlyMap<string, BuiltinPolicy> = builtinPolicies();

  constructor(compiler: ExpressionCompiler, input: LoadPoliciesInput) {
    this.#compiler = compiler;
    this.#input = input;
  }

  loadFile(file: string, text: string): void {
    const { docs, issues } = readPolicyDocuments(file, text);
    this.issues.push(...issues);
    for (const doc of docs) {
      const { policy, issues: docIssues } = validatePolicyDocument(doc);
      this.issues.push(...docIssues);
      if (policy === undefined) continue;
      const source = doc.locate(["metadata", "name"]);
      if (!this.#claimName(policy.metadata.name, source, false, "metadata.name")) continue;
      this.#checkKnownNames(policy, doc);
      this.#compile(policy, doc, { source, builtin: false, params: undefined, overrides: {} });
    }
  }

  loadBuiltin(selection: BuiltinSelection, i: number): void {
    const keyPath = `policies.builtin[${i}]`;
    const here = { file: this.#input.configFile };
    const builtin = this.#builtins.get(selection.name);
    if (builtin === undefined) {
      const known = [...this.#builtins.keys()].join(", ");
      this.issues.push({ location: here, keyPath, message: `unknown built-in policy "${selection.name}" (built-in policies: ${known})` });
      return;
    }
    const params = builtin.params.safeParse(selection.params ?? {});
    if (!params.success) {
      for (const issue of params.error.issues) {
        const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
        const message = issue.code === "unrecognized_keys" ? `unknown param${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")}` : issue.message;
        this.issues.push({ location: here, keyPath: path.length === 0 ? `${keyPath}.params` : `${keyPath}.params.${formatFieldPath(path)}`, message });
      }
      return;
    }
    for (const env of Object.keys(selection.environments ?? {})) this.#checkKnown("environment", env, here, `${keyPath}.environments.${env}`);
    if (!this.#claimName(builtin.name, here, true, keyPath)) return;
    const { docs, issues } = readPolicyDocuments(`builtin:${builtin.name}`, builtin.document);
    this.issues.push(...issues);
    const doc = docs[0];
    if (doc === undefined) return;
    const { policy, issues: docIssues } = validatePolicyDocument(doc);
    this.issues.push(...docIssues);
    if (policy === undefined) return;
    const overrides = {
      ...(selection.enforcement === undefined ? {} : { enforcement: selection.enforcement }),
      ...(selection.environments === undefined ? {} : { environments: selection.environments }),
    };
    this.#compile(policy, doc, { source: here, builtin: true, params: toCelInput(params.data), overrides });
  }

  #claimName(name: string, source: SourceLocation, builtin: boolean, keyPath: string): boolean {
    const previous = this.#seen.get(name);
    if (previous === undefined) {
      this.#seen.set(name, { ...source, builtin });
      return true;
    }
    const where = `${previous.builtin ? "the built-in policy enabled in " : ""}${formatLocation(previous)}`;
    this.issues.push({ location: source, keyPath, message: `duplicate policy name "${name}": also defined by ${where}` });
    return false;
  }

  #checkKnownNames(policy: PolicyDocument, doc: PolicySourceDocument): void {
    for (const env of Object.keys(policy.spec.environments)) {
      this.#checkKnown("environment", env, doc.locate(["spec", "environments"], env), `spec.environments.${env}`);
    }
    policy.spec.match.environments?.forEach((env, i) =>
      this.#checkKnown("environment", env, doc.locate(["spec", "match", "environments", i]), `spec.match.environments[${i}]`),
    );
    policy.spec.match.stacks?.forEach((stack, i) =>
      this.#checkKnown("stack", stack, doc.locate(["spec", "match", "stacks", i]), `spec.match.stacks[${i}]`),
    );
  }

  #checkKnown(what: "environment" | "stack", name: string, location: SourceLocation, keyPath: string): void {
    const known = this.#input.known;
    if (known === undefined) return;
    const names = what === "environment" ? known.environments : known.stacks;
    if (!names.includes(name)) {
      this.issues.push({ location, keyPath, message: `unknown ${what} "${name}" (gitward.yaml defines: ${names.join(", ") || "none"})` });
    }
  }

  #compile(
    policy: PolicyDocument,
    doc: PolicySourceDocument,
    opts: {
      source: SourceLocation;
      builtin: boolean;
      params: CelInputValue | undefined;
      overrides: Pick<BuiltinSelection, "enforcement" | "environments">;
    },
  ): void {
    const validations: CompiledValidation[] = [];
    policy.spec.validations.forEach((v, index) => {
      const expression = this.#expression(v.expression, "validation", doc, index, "expression", opts.builtin);
      const messageExpression =
        v.messageExpression === undefined ? undefined : this.#expression(v.messageExpression, "message", doc, index, "messageExpression", opts.builtin);
      if (expression === null || messageExpression === null) return;
      validations.push({ index, expression, message: v.message, messageExpression });
    });
    if (validations.length < policy.spec.validations.length) return;
    const environments = new Map<string, Enforcement>();
    for (const [env, o] of Object.entries(policy.spec.environments)) environments.set(env, o.enforcement);
    for (const [env, o] of Object.entries(opts.overrides.environments ?? {})) environments.set(env, o.enforcement);
    this.policies.push({
      info: { name: policy.metadata.name, source: opts.source, builtin: opts.builtin },
      match: compileMatch(policy.spec.match),
      enforcement: opts.overrides.enforcement ?? policy.spec.enforcement,
      environments,
      validations,
      params: opts.params,
    });
  }

  #expression(
    text: string,
    purpose: ExpressionPurpose,
    doc: PolicySourceDocument,
    index: number,
    key: "expression" | "messageExpression",
    params: boolean,
  ): CompiledExpression | null {
    const outcome = this.#compiler.compile(text, purpose, { params });
    if (outcome.ok) return outcome.expression;
    const path = ["spec", "validations", index, key];
    this.issues.push({ location: doc.locateInString(path, outcome.issue.offset), keyPath: formatFieldPath(path), message: outcome.issue.message });
    return null;
  }
}
