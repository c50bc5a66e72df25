import { createHash } from "node:crypto";
import type { CommandRunner } from "../core/command-runner.ts";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { KObject, RenderedObject } from "../core/object.ts";
import { getPath } from "../core/object.ts";
import { splitApiVersion, type ObjRef } from "../core/objref.ts";
import type { StackInstance } from "../config/stack-instances.ts";
import type { Snapshot, TreeEntry } from "../source/types.ts";
import { collectKustomizeInputs, findKustomization, type KustomizeInputs } from "./kustomize-inputs.ts";
import { findKustomizeTool, kustomizeBuild, type KustomizeTool } from "./kustomize.ts";
import { kustomizeSourceFinder } from "./kustomize-sources.ts";
import { hostSourcePaths, inlineHostSources } from "./host-sources.ts";
import { applyDefaultNamespace } from "./namespaces.ts";
import { SopsOriginals } from "./sops-originals.ts";
import { isManifestFile, parseManifestFile, type ParsedManifest, type ParseOptions } from "./parse-manifests.ts";
import { relocateKustomizeFailure } from "./kustomize-references.ts";
import { renderTerraformModule } from "./terraform-module.ts";
import { VarResolver } from "./var-resolver.ts";
import { OutputTable, outputReference, type OutputsSource } from "./outputs.ts";
import { VariableError } from "./variable-error.ts";
import type { ContentCache } from "../core/layered-cache.ts";
import type { ScopeResolver } from "./scopes.ts";
import { defaultRenderLimits, effectiveLimits, RenderBudget, type RenderLimits } from "./render-limits.ts";

/** Bumped whenever rendering changes what it produces, so old cache entries are not reused. */
const renderFormat = "gitward-render-10";

/** What rendering a stack instance produced: its objects, or the error that stopped it. */
export type RenderResult =
  | {
      readonly instance: StackInstance;
      readonly ok: true;
      readonly objects: readonly RenderedObject[];
      readonly cached: boolean;
      /** The content key; "" when the result depends on more than the commit (remote bases). */
      readonly key: string;
      /** A Terraform stack's: the revision's policies over the changes its target plans (see engine/policy-stage.ts). */
      readonly plannedCheck?: PlannedCheck;
      /**
       * The outputs of other stacks the render used, `<stack>.<name>`: it changes with them, and
       * rendered without an {@link OutputsSource} their values were known after apply only.
       */
      readonly outputs?: readonly string[];
    }
  | { readonly instance: StackInstance; readonly ok: false; readonly error: GitwardError };

/** The policies of a revision over planned-change objects of one stack instance (Terraform). */
export type PlannedCheck = (objects: readonly RenderedObject[]) => readonly PlannedFinding[];

/** What a {@link PlannedCheck} finds, in the shape of Check's findings. */
export interface PlannedFinding {
  readonly severity: "error" | "warning" | "info";
  readonly rule: string;
  readonly message: string;
  readonly ref?: ObjRef;
  readonly environment?: string;
  readonly stack?: string;
}

/** What a {@link Renderer} needs. */
export interface RendererOptions {
  readonly runner: CommandRunner;
  readonly cache: ContentCache<readonly RenderedObject[]>;
  readonly scopes: ScopeResolver;
  /** A fingerprint of the scope knowledge, part of the cache key (builtin or a cluster's discovery). */
  readonly scopesId: string;
  readonly allowRemoteBases: boolean;
  /** The runner's render limits; default {@link defaultRenderLimits}. gitward.yaml may lower them. */
  readonly limits?: RenderLimits;
}

/** Turns a stack's directory at a commit into objects: plain YAML/JSON or kustomize, then substitution and namespaces. */
export class Renderer {
  readonly #opts: RendererOptions;
  #tool: Promise<KustomizeTool | undefined> | undefined;
  /** What each revision (snapshot) has rendered so far, against the per-revision limits. */
  readonly #budgets = new WeakMap<Snapshot, RenderBudget>();

  constructor(opts: RendererOptions) {
    this.#opts = opts;
  }

  /**
   * Renders one instance; failures come back as a result, not an exception. `outputs` gives the
   * outputs of the stacks it depends on (`${outputs.<stack>.<name>}`); without it they are
   * known after apply.
   */
  async render(snapshot: Snapshot, instance: StackInstance, signal?: AbortSignal, outputs?: OutputsSource): Promise<RenderResult> {
    try {
      const budget = this.#budget(snapshot, instance);
      // A Terraform stack renders to one object holding its root module; Terraform itself runs in the target.
      if (instance.target.provider === "terraform") return await renderTerraform(snapshot, instance, budget, outputs, signal);
      // Only the runner may let kustomize reach the network: a commit cannot grant itself that.
      const allowRemote = this.#opts.allowRemoteBases;
      const kfile = findKustomization(snapshot, instance.dir);
      const inputs = kfile === undefined ? undefined : await collectKustomizeInputs(snapshot, instance.dir, { allowRemote, ...(signal === undefined ? {} : { signal }) });
      const tool = inputs === undefined ? undefined : await this.#kustomizeTool();
      const content = inputs === undefined ? plainDigest(snapshot, instance.dir) : `${inputs.digest}:${tool?.version ?? "no-tool"}`;
      // A remote base can move under the same reference, so its renders are never reused; nor
      // are renders with outputs of other stacks, which change without a commit.
      const cacheable = (inputs === undefined || inputs.remote.length === 0) && !OutputTable.readsOutputs(instance, outputs);
      const key = cacheable ? cacheKey(content, instance, this.#opts.scopesId) : "";
      const hit = cacheable ? await this.#opts.cache.get(key) : undefined;
      if (hit !== undefined) {
        // Limits hold for what the cache gives too: they may be lower than when it was written.
        checkCached(hit, budget, { file: kfile ?? instance.dir, plain: kfile === undefined });
        return { instance, ok: true, objects: hit, cached: true, key };
      }
      const table = await OutputTable.load(instance, outputs, signal);
      const { parsed, originals } =
        kfile !== undefined && inputs !== undefined
          ? await this.#renderKustomize(snapshot, instance, { kfile, inputs, tool, budget, network: allowRemote, table }, signal)
          : { parsed: await this.#renderPlain(snapshot, instance, budget, table, signal), originals: SopsOriginals.plain() };
      budget.takeObjects(parsed.length, { file: kfile ?? instance.dir });
      const objects = table.seal(toRendered(parsed, instance, this.#opts.scopes, originals));
      const used = table.used;
      if (used.length > 0) return { instance, ok: true, objects, cached: false, key: "", outputs: used };
      if (cacheable) await this.#opts.cache.put(key, objects);
      return { instance, ok: true, objects, cached: false, key };
    } catch (e: unknown) {
      return { instance, ok: false, error: asGitwardError(e) };
    }
  }

  #budget(snapshot: Snapshot, instance: StackInstance): RenderBudget {
    let budget = this.#budgets.get(snapshot);
    if (budget === undefined) {
      budget = new RenderBudget(effectiveLimits(this.#opts.limits ?? defaultRenderLimits(), instance.limits));
      this.#budgets.set(snapshot, budget);
    }
    return budget;
  }

  #kustomizeTool(): Promise<KustomizeTool | undefined> {
    this.#tool ??= findKustomizeTool(this.#opts.runner);
    return this.#tool;
  }

  async #renderKustomize(
    snapshot: Snapshot,
    instance: StackInstance,
    build: { kfile: string; inputs: KustomizeInputs; tool: KustomizeTool | undefined; budget: RenderBudget; network: boolean; table: OutputTable },
    signal?: AbortSignal,
  ): Promise<{ parsed: ParsedManifest[]; originals: SopsOriginals }> {
    const { budget } = build;
    const outputLimit = {
      maxBytes: budget.bytesLeft(),
      message: `the manifests of this revision are more than ${budget.limits.maxBytesPerRevision} bytes with kustomize's output (limits.maxBytesPerRevision)`,
    };
    const out = await kustomizeBuild({
      snapshot, dir: instance.dir, kustomizationFile: build.kfile, inputs: build.inputs, tool: build.tool, runner: this.#opts.runner,
      network: build.network, outputLimit, ...(signal === undefined ? {} : { signal }),
    });
    budget.takeBytes(out.length, { file: build.kfile });
    const sourceOf = await kustomizeSourceFinder(snapshot, build.inputs, signal);
    let parsed: ParsedManifest[];
    try {
      parsed = parseManifestFile(build.kfile, out, { ...substitutionFor(instance, build.table), objectLimit: budget.fileLimit(0, false) });
    } catch (e: unknown) {
      // Positions in kustomize's output mean nothing to a reader: find the input that has the text.
      if (!(e instanceof VariableError)) throw e;
      throw await relocateKustomizeFailure({ error: e, output: out, kfile: build.kfile, snapshot, inputs: build.inputs, sourceOf }, signal);
    }
    const originals = await SopsOriginals.ofKustomizeInputs(snapshot, build.inputs, out, signal);
    return { parsed: parsed.map((p) => ({ ...p, location: sourceOf(p.object) ?? { file: build.kfile } })), originals };
  }

  async #renderPlain(snapshot: Snapshot, instance: StackInstance, budget: RenderBudget, table: OutputTable, signal?: AbortSignal): Promise<ParsedManifest[]> {
    const entries = snapshot
      .listFiles(instance.dir)
      .filter((f) => isManifestFile(f.path) && !f.path.slice(instance.dir.length).split("/").some((s) => s.startsWith(".")));
    for (const f of entries) budget.takeBytes(f.size, { file: f.path });
    const substitution = substitutionFor(instance, table);
    let count = 0;
    // A YAML or JSON file that a host File names as its source is data, not a manifest: parse
    // failures are held until it is known which files those are. The object limits are not.
    const parsed: { file: string; manifests?: ParsedManifest[]; error?: unknown }[] = [];
    // Read a few MiB at a time: a stack's files are never all in memory at once.
    for (const batch of batchesOf(entries, readBatchBytes)) {
      const contents = await snapshot.readFiles(batch.map((f) => f.path), signal);
      for (const { path: file } of batch) {
        const objectLimit = budget.fileLimit(count, true);
        try {
          const manifests = parseManifestFile(file, contents.get(file) ?? Buffer.alloc(0), { ...substitution, objectLimit });
          count += manifests.length;
          parsed.push({ file, manifests });
        } catch (e: unknown) {
          if (e instanceof GitwardError && e.code === ErrorCode.Limit && e.detail === objectLimit.message) throw e;
          parsed.push({ file, error: e });
        }
        contents.delete(file);
      }
    }
    const manifests = parsed.flatMap((p) => p.manifests ?? []);
    const sources = hostSourcePaths(manifests, instance.dir);
    const kept = parsed.filter((p) => !sources.has(p.file));
    const failed = kept.find((p) => p.error !== undefined);
    if (failed !== undefined) throw failed.error;
    const resolver = substitution.vars === undefined ? undefined : new VarResolver(substitution.vars, substitution.substitution);
    return inlineHostSources(kept.flatMap((p) => p.manifests ?? []), snapshot, instance.dir, resolver, signal);
  }
}

/** Bytes of manifest files read from the repository at once. */
const readBatchBytes = 8 * 1024 * 1024;

/** Consecutive groups of files of at most `bytes` together (a larger file alone). */
function batchesOf(files: readonly TreeEntry[], bytes: number): TreeEntry[][] {
  const out: TreeEntry[][] = [];
  let current: TreeEntry[] = [];
  let size = 0;
  for (const f of files) {
    if (current.length > 0 && size + f.size > bytes) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(f);
    size += f.size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** How an instance's manifests are substituted: not at all with `substitute: false`. */
function substitutionFor(instance: StackInstance, outputs: OutputTable): ParseOptions {
  if (instance.substitute === false) return { vars: undefined };
  return { vars: instance.vars, substitution: { declared: instance.declaredVars ?? [], strict: instance.substitute === "strict", outputs } };
}

/**
 * A Terraform stack's Module, its variables' output references (`vars: { db: ${outputs.net.db} }`)
 * resolved first: Terraform stacks feed each other through gitward's variables too.
 */
async function renderTerraform(snapshot: Snapshot, instance: StackInstance, budget: RenderBudget, outputs: OutputsSource | undefined, signal?: AbortSignal): Promise<RenderResult> {
  if (!Object.values(instance.vars).some((v) => v.includes("${outputs."))) {
    return { instance, ok: true, objects: await renderTerraformModule(snapshot, instance, budget, signal), cached: false, key: "" };
  }
  const table = await OutputTable.load(instance, outputs, signal);
  const vars: Record<string, string> = {};
  // Only output references: other `${…}` in a Terraform stack's variables are Terraform's text.
  for (const [name, value] of Object.entries(instance.vars)) {
    vars[name] = value.replace(/(\$?)\$\{(outputs\.[^}]*)\}/g, (whole: string, escape: string, inner: string) => {
      const m = outputReference.exec(inner);
      if (escape === "$" || m === null) return whole;
      const r = table.resolve(m[1] ?? "", m[2] ?? "");
      if ("value" in r) return r.value;
      throw new GitwardError(ErrorCode.Variable, `variable ${name}: ${r.error}`, { subject: { location: { file: "gitward.yaml" } }, hint: r.hint });
    });
  }
  const objects = table.seal(await renderTerraformModule(snapshot, { ...instance, vars }, budget, signal));
  return { instance, ok: true, objects, cached: false, key: "", outputs: table.used };
}

/** The content key of a plain directory: every file's path and blob id, symlinks resolved. */
function plainDigest(snapshot: Snapshot, dir: string): string {
  const hash = createHash("sha256").update("plain\n");
  for (const f of snapshot.listFiles(dir)) hash.update(`${f.path}\u0000${f.oid}\n`);
  return hash.digest("hex");
}

function cacheKey(content: string, instance: StackInstance, scopesId: string): string {
  const vars = Object.entries(instance.vars).sort(([a], [b]) => a.localeCompare(b));
  // Names declared for other environments decide what is gitward's, so they are part of the key.
  const substitution = instance.substitute === false ? null : [instance.substitute, vars, [...(instance.declaredVars ?? [])].sort()];
  const material = JSON.stringify([renderFormat, scopesId, content, substitution, instance.namespace ?? null]);
  return createHash("sha256").update(material).digest("hex");
}

function toRendered(parsed: readonly ParsedManifest[], instance: StackInstance, scopes: ScopeResolver, originals: SopsOriginals): RenderedObject[] {
  // Namespace defaulting changes the object: what sops encrypted (and its MAC covers) is kept first.
  const encrypted = parsed.map((p) => originals.of(p.object));
  const envFiles = parsed.map((p) => originals.envFileOf(p.object));
  const objects = applyDefaultNamespace(parsed.map((p) => p.object), instance.namespace, scopes);
  return objects.map((object, i) => {
    const p = parsed[i];
    const docs = encrypted[i];
    return {
      object,
      ref: lenientRef(object),
      apiVersion: typeof object["apiVersion"] === "string" ? object["apiVersion"] : "",
      source: p?.location ?? { file: instance.dir },
      ...(docs === undefined ? {} : { encrypted: docs }),
      ...(envFiles[i] === undefined ? {} : { encryptedEnvFile: envFiles[i] }),
      ...(p?.sopsFile === undefined ? {} : { sopsFile: p.sopsFile }),
    };
  });
}

/** A ref even for incomplete objects, so Check can name them; empty parts are reported there. */
function lenientRef(obj: KObject): RenderedObject["ref"] {
  const { group } = splitApiVersion(typeof obj["apiVersion"] === "string" ? obj["apiVersion"] : "");
  const kind = typeof obj["kind"] === "string" ? obj["kind"] : "";
  const name = getPath(obj, ["metadata", "name"]);
  const namespace = getPath(obj, ["metadata", "namespace"]);
  const base = { group, kind, name: typeof name === "string" ? name : "" };
  return typeof namespace === "string" && namespace !== "" ? { ...base, namespace } : base;
}

/** Holds a cached render to the limits, the file limit for plain stacks (whose objects each name their file). */
function checkCached(objects: readonly RenderedObject[], budget: RenderBudget, stack: { file: string; plain: boolean }): void {
  if (stack.plain) {
    const perFile = new Map<string, number>();
    for (const o of objects) perFile.set(o.source.file, (perFile.get(o.source.file) ?? 0) + 1);
    const limit = budget.perFile();
    for (const [file, n] of perFile) {
      if (n > limit.max) throw new GitwardError(ErrorCode.Limit, limit.message, { subject: { location: { file } }, ...(limit.hint === undefined ? {} : { hint: limit.hint }) });
    }
  }
  budget.takeObjects(objects.length, { file: stack.file });
}

function asGitwardError(e: unknown): GitwardError {
  if (e instanceof GitwardError) return e;
  return new GitwardError(ErrorCode.Internal, "render failed", { cause: e });
}
