import { randomBytes } from "node:crypto";
import type { StackInstance } from "../config/stack-instances.ts";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { KObject, RenderedObject } from "../core/object.ts";
import { isRecord } from "../core/object.ts";
import { formatRef } from "../core/objref.ts";

/**
 * Outputs of other stacks in manifests: `${outputs.<stack>.<name>}`. A stack may read the
 * outputs of the stacks it depends on (which are synced before it), in the same environment.
 * Sensitive ones may only go where secrets go (see {@link OutputTable.seal}).
 */

/** One output of a producing stack, as rendering needs it (the shape of the provider contract's OutputValue). */
export interface OutputValue {
  /** Raw: never shown when sensitive. */
  readonly value: unknown;
  readonly sensitive: boolean;
  /** False when known only after the producer is applied. */
  readonly known: boolean;
}

/** Where rendering reads the outputs of producing stacks (Terraform), one per revision: the engine's. */
export interface OutputsSource {
  /** True when `stack` has outputs in `environment` (a Terraform stack of the revision). */
  produces(environment: string, stack: string): boolean;
  /**
   * The stack's outputs; undefined when they cannot be known here (no credentials for its
   * state): every reference to them is then shown as known after apply.
   */
  outputs(environment: string, stack: string, signal?: AbortSignal): Promise<Readonly<Record<string, OutputValue>> | undefined>;
}

/** What a reference becomes when its value is known only once the producer is applied. */
export const knownAfterApply = "(known after apply)";

/** `outputs.<stack>.<name>` inside `${…}`. */
export const outputReference = /^outputs\.([A-Za-z0-9_.-]+?)\.([A-Za-z_][A-Za-z0-9_-]*)$/;

/** How a resolver turns an output reference into text: the text, or why not. */
export interface OutputResolver {
  resolve(stack: string, name: string): { readonly value: string } | { readonly error: string; readonly hint: string };
}

/** A destination where a sensitive output may go. */
const sensitiveDestinations = "a Secret's data or stringData, or the content of a host File whose mode is not group- or world-readable (e.g. mode: \"0600\")";

const hostFileApiVersion = "host.gitward.dev/v1alpha1";

/**
 * The outputs one stack instance's render reads. Without a source (evaluating for the gate,
 * `gitward render`), every reference to a dependency is {@link knownAfterApply}: the engine
 * renders the stack again with the outputs before it syncs it. Sensitive values are never put
 * in text during substitution: a random marker stands in, which {@link seal} checks and replaces,
 * so a value cannot reach an error message or a place it may not go.
 */
export class OutputTable implements OutputResolver {
  readonly #instance: StackInstance;
  readonly #source: OutputsSource | undefined;
  readonly #fetched = new Map<string, Readonly<Record<string, OutputValue>> | undefined>();
  readonly #marker = `gitward-sensitive-${randomBytes(9).toString("hex")}-`;
  readonly #sensitive = new Map<string, { readonly reference: string; readonly value: string }>();
  readonly #used = new Set<string>();

  private constructor(instance: StackInstance, source: OutputsSource | undefined) {
    this.#instance = instance;
    this.#source = source;
  }

  /** The table for an instance, with the outputs of every producing dependency read from `source`. */
  static async load(instance: StackInstance, source: OutputsSource | undefined, signal?: AbortSignal): Promise<OutputTable> {
    const table = new OutputTable(instance, source);
    if (source === undefined) return table;
    for (const dep of instance.dependsOn) {
      if (!source.produces(instance.environment, dep)) continue;
      try {
        table.#fetched.set(dep, await source.outputs(instance.environment, dep, signal));
      } catch (e: unknown) {
        const why = e instanceof GitwardError ? e.detail : e instanceof Error ? e.message : String(e);
        throw new GitwardError(ErrorCode.Render, `reading the outputs of stack ${dep} (${instance.environment}) failed: ${why}`, {
          subject: { location: { file: instance.dir } }, cause: e,
        });
      }
    }
    return table;
  }

  /** True when the instance depends on a stack whose outputs come from the source (its render then changes with them). */
  static readsOutputs(instance: StackInstance, source: OutputsSource | undefined): boolean {
    return source !== undefined && instance.dependsOn.some((d) => source.produces(instance.environment, d));
  }

  /** The references the render used, `<stack>.<name>`, sorted. */
  get used(): readonly string[] {
    return [...this.#used].sort();
  }

  /** The text `${outputs.<stack>.<name>}` stands for, or why it cannot be used. */
  resolve(stack: string, name: string): { readonly value: string } | { readonly error: string; readonly hint: string } {
    const { environment, stack: self } = this.#instance;
    const reference = `\${outputs.${stack}.${name}}`;
    if (!this.#instance.dependsOn.includes(stack)) {
      return {
        error: `${reference}: stack ${stack} is not a dependency of ${self}`,
        hint: `add ${stack} to stacks.${self}.dependsOn in gitward.yaml: a stack reads the outputs of the stacks it depends on, which sync before it`,
      };
    }
    this.#used.add(`${stack}.${name}`);
    if (this.#source === undefined) return { value: knownAfterApply };
    if (!this.#source.produces(environment, stack)) {
      return { error: `${reference}: stack ${stack} has no outputs in ${environment}`, hint: "only Terraform stacks have outputs" };
    }
    if (!this.#fetched.has(stack)) return { value: knownAfterApply };
    const outputs = this.#fetched.get(stack);
    if (outputs === undefined) return { value: knownAfterApply };
    const output = Object.hasOwn(outputs, name) ? outputs[name] : undefined;
    if (output === undefined) {
      const names = Object.keys(outputs).sort();
      return {
        error: `${reference}: stack ${stack} has no output "${name}" in ${environment}`,
        hint: names.length === 0 ? `stack ${stack} has no outputs (not applied yet, or its module declares none)` : `its outputs: ${names.join(", ")}`,
      };
    }
    const text = output.known ? outputText(output.value) : knownAfterApply;
    if (!output.sensitive) return { value: text };
    const marker = `${this.#marker}${this.#sensitive.size}.`;
    this.#sensitive.set(marker, { reference, value: text });
    return { value: marker };
  }

  /**
   * Puts the sensitive values in place of their markers, where they may go: a v1 Secret's
   * `data` or `stringData` values, or the content of a host File whose mode keeps group and
   * others from reading it (which is then marked `sensitive`, so no diff shows it). Anywhere
   * else is a render error naming the object, the field and the output, never the value.
   */
  seal(objects: readonly RenderedObject[]): RenderedObject[] {
    if (this.#sensitive.size === 0) return [...objects];
    return objects.map((o) => {
      let found = false;
      const object = this.#replace(o.object, [], (path, key) => {
        found = true;
        const why = key ? "a field name is not a place for secrets" : this.#refusal(o.object, path);
        if (why !== undefined) {
          throw new GitwardError(ErrorCode.Variable, `sensitive output ${this.#referenceIn(o.object, path)} cannot go into ${formatRef(o.ref)}, field ${formatPath(path)}: ${why}`, {
            subject: { location: o.source },
            hint: `sensitive outputs may only go into ${sensitiveDestinations}`,
          });
        }
      }) as KObject;
      if (!found || object["kind"] !== "File") return { ...o, object };
      const spec = object["spec"];
      return { ...o, object: { ...object, spec: { ...(isRecord(spec) ? spec : {}), sensitive: true } } };
    });
  }

  #referenceIn(object: unknown, path: readonly string[]): string {
    let value: unknown = object;
    for (const p of path) value = isRecord(value) ? value[p] : Array.isArray(value) ? (value as unknown[])[Number(p)] : undefined;
    const text = typeof value === "string" ? value : path.at(-1) ?? "";
    for (const [marker, s] of this.#sensitive) if (text.includes(marker)) return s.reference;
    return "(unknown)";
  }

  /** Why a sensitive value may not be at `path` of `object`; undefined when it may. */
  #refusal(object: KObject, path: readonly string[]): string | undefined {
    const kind = object["kind"];
    if (object["apiVersion"] === "v1" && kind === "Secret") {
      return (path[0] === "data" || path[0] === "stringData") && path.length === 2 ? undefined : "in a Secret, only the values of data and stringData may hold it";
    }
    if (object["apiVersion"] === hostFileApiVersion && kind === "File" && path.join(".") === "spec.content") {
      const spec = object["spec"];
      const raw = isRecord(spec) ? spec["mode"] : undefined;
      const mode = typeof raw === "string" && /^0?[0-7]{3,4}$/.test(raw) ? Number.parseInt(raw, 8) : raw === undefined ? 0o644 : undefined;
      if (mode !== undefined && (mode & 0o044) === 0) return undefined;
      return `its mode ${typeof raw === "string" ? `"${raw}"` : "(default \"0644\")"} lets group or others read it`;
    }
    return `a ${typeof kind === "string" ? kind : "object"} is not a place for secrets`;
  }

  /** A copy of `value` with the markers replaced by the values, `found` told of each place holding one. */
  #replace(value: unknown, path: string[], found: (path: readonly string[], key: boolean) => void): unknown {
    if (typeof value === "string") {
      if (!value.includes(this.#marker)) return value;
      found(path, false);
      let out = value;
      for (const [marker, s] of this.#sensitive) out = out.replaceAll(marker, s.value);
      return out;
    }
    if (Array.isArray(value)) return value.map((v, i) => this.#replace(v, [...path, String(i)], found));
    if (!isRecord(value)) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      // A key is never a place for a secret.
      if (k.includes(this.#marker)) found([...path, k], true);
      out[k] = this.#replace(v, [...path, k], found);
    }
    return out;
  }
}

/** An output's value as text: strings as they are, anything else as JSON. */
function outputText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "";
  return typeof value === "number" || typeof value === "boolean" ? String(value) : JSON.stringify(value);
}

function formatPath(path: readonly string[]): string {
  return path.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}
