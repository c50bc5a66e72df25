import { createHash } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { ProcessRunner, type CommandRunner } from "../core/command-runner.ts";
import type { CheckOptions } from "../check/run-checks.ts";
import { createOfflineValidator, type SchemaValidator } from "../check/schema-offline.ts";
import { clusterSchemaValidator, fetchClusterInfo } from "../check/cluster-info.ts";
import { LayeredCache, type ContentCache } from "../core/layered-cache.ts";
import type { Config } from "../config/schema.ts";
import { Renderer } from "../render/renderer.ts";
import { builtinScopes, chainScopes, type ScopeResolver } from "../render/scopes.ts";
import { openSource } from "../source/open-source.ts";
import { maskUserinfo, parseLocation } from "../source/source-location.ts";
import { defaultRenderLimits, type RenderLimits } from "../render/render-limits.ts";
import type { GitSource } from "../source/types.ts";

/** Where gitward reads from and how: the options shared by validate, render and plan. */
export interface WorkspaceOptions {
  /** A local repository path or a remote URL. */
  readonly repo: string;
  /** Cache directory for remote mirrors and render results. */
  readonly cacheDir: string;
  /** Keep render results in memory only. */
  readonly noCache: boolean;
  readonly allowRemoteBases: boolean;
  /** The runner's render limits, over the defaults; a repository's gitward.yaml may only lower them. */
  readonly renderLimits?: Partial<RenderLimits>;
  /** Validate schemas and scopes against this cluster too. */
  readonly cluster?: { readonly kubeconfigPath?: string; readonly context?: string };
  /** Schema validation off (`--no-schema`). */
  readonly noSchema?: boolean;
  readonly runner?: CommandRunner;
  readonly signal?: AbortSignal;
  /** Progress messages, for stderr. */
  readonly progress?: (message: string) => void;
}

/** The parts the engine runs on, opened once per command. */
export interface Workspace {
  readonly source: GitSource;
  readonly renderer: Renderer;
  readonly check: CheckOptions;
  readonly configCache: ContentCache<Config>;
  close(): Promise<void>;
}

/** The default cache directory: $GITWARD_CACHE_DIR, else $XDG_CACHE_HOME/gitward, else ~/.cache/gitward. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const own = env["GITWARD_CACHE_DIR"];
  if (own !== undefined && own !== "") return own;
  const xdg = env["XDG_CACHE_HOME"];
  return join(xdg !== undefined && xdg !== "" ? xdg : join(homedir(), ".cache"), "gitward");
}

/** Opens the repository (fetching a remote into the cache), the cluster if asked, and builds the renderer. */
export async function openWorkspace(opts: WorkspaceOptions): Promise<Workspace> {
  const runner = opts.runner ?? new ProcessRunner();
  const progress = opts.progress ?? ((): void => undefined);
  let scopes: ScopeResolver = builtinScopes();
  let scopesId = "builtin";
  const schemas: SchemaValidator[] = [];
  if (opts.cluster !== undefined) {
    progress(`reading schemas and discovery from cluster ${opts.cluster.context ?? "(current context)"}`);
    const cluster = await fetchClusterInfo({ ...opts.cluster, ...(opts.signal === undefined ? {} : { signal: opts.signal }) });
    scopes = chainScopes(cluster.resources, scopes);
    // The schemas themselves, not only the version: a CRD installed since changes them.
    scopesId = `cluster:${cluster.server}:${createHash("sha256").update(JSON.stringify(cluster.openapi)).digest("hex")}`;
    schemas.push(clusterSchemaValidator(cluster));
  }
  if (opts.noSchema !== true) schemas.push(createOfflineValidator());
  progress(`opening ${maskUserinfo(opts.repo)}`);
  // Renders and mirrors may hold what the repository keeps from others (rendered Secrets):
  // a cache directory gitward creates is its user's alone. One that exists is left as it is.
  if (opts.cacheDir !== "" && (!opts.noCache || parseLocation(opts.repo).kind === "remote")) await mkdir(opts.cacheDir, { recursive: true, mode: 0o700 });
  const source = await openSource(opts.repo, {
    cacheDir: opts.cacheDir, runner, ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  });
  const dir = (name: string): string | undefined => (opts.noCache ? undefined : join(opts.cacheDir, name));
  const renderer = new Renderer({
    runner, cache: new LayeredCache(dir("render")), scopes, scopesId, allowRemoteBases: opts.allowRemoteBases,
    limits: { ...defaultRenderLimits(), ...opts.renderLimits },
  });
  return {
    source,
    renderer,
    check: { scopes, schemas: opts.noSchema === true ? [] : schemas, cache: new LayeredCache(dir("check")) },
    configCache: new LayeredCache(dir("config")),
    close: () => source.close(),
  };
}
