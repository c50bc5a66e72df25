import { Option, type Command } from "commander";
import { resolve } from "node:path";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { InstanceFilter } from "../config/stack-instances.ts";
import type { SignatureVerification } from "../source/types.ts";
import { defaultCacheDir, type WorkspaceOptions } from "../engine/workspace.ts";
import type { ProviderContext } from "../providers/provider.ts";
import type { RenderLimits } from "../render/render-limits.ts";
import { loadHostCommandsFile } from "./host-commands-file.ts";

/** The flags every repository command shares, as commander parses them. */
export interface CommonFlags {
  repo: string;
  config: string;
  env?: string[];
  stack?: string[];
  cacheDir?: string;
  cache: boolean;
  allowRemoteBases?: boolean;
  renderLimit?: Partial<RenderLimits>;
  allowedSigners?: string;
  gpgKeyring?: string;
  kubeconfig?: string;
  context?: string;
  schema: boolean;
  debug?: boolean;
  color?: boolean;
  quiet?: boolean;
}

const list = (value: string, prev: string[] | undefined): string[] => [
  ...(prev ?? []),
  ...value.split(",").map((s) => s.trim()).filter((s) => s !== ""),
];

/** Adds the shared flags to a command. */
export function addCommonOptions(cmd: Command): Command {
  return cmd
    .option("--repo <path|url>", "repository: a local path or a URL (file, http(s), ssh, git)", ".")
    .option("--config <path>", "path of gitward.yaml inside the repository", "gitward.yaml")
    .option("-e, --env <names>", "environments to include (comma-separated or repeated); default all", list)
    .option("-s, --stack <names>", "stacks to include (comma-separated or repeated); default all", list)
    .option("--cache-dir <dir>", "cache for remote mirrors and render results (default $GITWARD_CACHE_DIR or ~/.cache/gitward)")
    .option("--no-cache", "keep no cache on disk (rendered stacks, check findings, parsed gitward.yaml)")
    .option("--allow-remote-bases", "allow kustomize bases fetched over the network")
    .option("--render-limit <key=n>", "raise or lower a render limit for this run: maxObjectsPerFile, maxObjectsPerStack, maxObjectsPerRevision, maxBytesPerRevision (repeatable)", renderLimit)
    .option("--allowed-signers <file>", "verify the commit's SSH signature against this allowed-signers file")
    .option("--gpg-keyring <file>", "verify the commit's GPG signature against the public keys in this file")
    .option("--kubeconfig <file>", "kubeconfig: validate/plan also check against this cluster's schemas; apply/diff reach their targets with it")
    .option("--context <name>", "kubeconfig context (apply/diff: overrides the target's context)")
    .option("--no-schema", "skip Kubernetes schema validation")
    .option("-q, --quiet", "no progress messages on stderr")
    .option("--no-color", "no colour, even on a terminal (NO_COLOR is honoured too)")
    .option("--debug", "show stack traces for errors");
}

/** The flags of the commands that reach targets (apply, diff). */
export interface TargetFlags extends CommonFlags {
  hostCommands?: string;
}

/** Adds `--host-commands FILE` (apply, diff): the commands host targets may run, defined by whoever runs the push. */
export function addHostCommandsOption(cmd: Command): Command {
  return cmd.option("--host-commands <file>", "YAML file defining the commands host targets may run (target → name → argument array); gitward.yaml only names them");
}

/**
 * How apply and diff reach the environment's targets: --kubeconfig and --context for
 * Kubernetes, and for host targets the commands --host-commands defines (none without it, so a
 * command gitward.yaml names fails its stack and nothing runs).
 */
export async function pushProviderContext(flags: TargetFlags, environment: string): Promise<ProviderContext> {
  const hostCommands = flags.hostCommands === undefined ? undefined : await loadHostCommandsFile(resolve(flags.hostCommands), environment);
  return {
    ...(flags.kubeconfig === undefined ? {} : { kubeconfigPath: flags.kubeconfig }),
    ...(flags.context === undefined ? {} : { context: flags.context }),
    ...(hostCommands === undefined ? {} : { hostCommands }),
  };
}

/** Adds `-o, --output` with the given formats, the first being the default. */
export function addOutputOption(cmd: Command, formats: readonly string[]): Command {
  return cmd.addOption(new Option("-o, --output <format>", "output format").choices([...formats]).default(formats[0]));
}

const limitKeys = ["maxObjectsPerFile", "maxObjectsPerStack", "maxObjectsPerRevision", "maxBytesPerRevision"] as const;

/** Parses one `--render-limit key=n` into the limits given so far. */
function renderLimit(value: string, previous: Partial<RenderLimits> | undefined): Partial<RenderLimits> {
  const m = /^([A-Za-z]+)=(\d+)$/.exec(value.trim());
  const key = limitKeys.find((k) => k === m?.[1]);
  const n = Number(m?.[2]);
  if (key === undefined || !Number.isSafeInteger(n) || n < 1) {
    throw new GitwardError(ErrorCode.Config, `--render-limit ${value}: expected KEY=N with N ≥ 1`, { hint: `keys: ${limitKeys.join(", ")}` });
  }
  return { ...previous, [key]: n };
}

/** The workspace options the flags describe. */
export function workspaceOptions(
  flags: CommonFlags,
  progress: (m: string) => void,
  /** apply and diff use --kubeconfig/--context for the targets, not for schemas. */
  opts: { clusterSchemas: boolean } = { clusterSchemas: true },
): WorkspaceOptions {
  const wantCluster = opts.clusterSchemas && (flags.kubeconfig !== undefined || flags.context !== undefined);
  return {
    repo: looksLikeUrl(flags.repo) ? flags.repo : resolve(flags.repo),
    cacheDir: flags.cacheDir ?? defaultCacheDir(),
    noCache: !flags.cache,
    allowRemoteBases: flags.allowRemoteBases === true,
    ...(flags.renderLimit === undefined ? {} : { renderLimits: flags.renderLimit }),
    noSchema: !flags.schema,
    progress,
    ...(wantCluster
      ? { cluster: { ...(flags.kubeconfig === undefined ? {} : { kubeconfigPath: flags.kubeconfig }), ...(flags.context === undefined ? {} : { context: flags.context }) } }
      : {}),
  };
}

/** The environment and stack filter the flags describe. */
export function instanceFilter(flags: CommonFlags): InstanceFilter {
  return { ...(flags.env === undefined ? {} : { environments: flags.env }), ...(flags.stack === undefined ? {} : { stacks: flags.stack }) };
}

/** The signature verification the flags ask for, if any. */
export function verificationFrom(flags: CommonFlags): SignatureVerification | undefined {
  if (flags.allowedSigners !== undefined && flags.gpgKeyring !== undefined) {
    throw new GitwardError(ErrorCode.Config, "--allowed-signers and --gpg-keyring cannot be used together");
  }
  if (flags.allowedSigners !== undefined) return { format: "ssh", allowedSignersFile: resolve(flags.allowedSigners) };
  if (flags.gpgKeyring !== undefined) return { format: "gpg", keyringFile: resolve(flags.gpgKeyring) };
  return undefined;
}

/** True for a repository given as a URL (scheme://… or scp-like user@host:path), not a local path. */
export function looksLikeUrl(repo: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[^/\s]+@[^/\s]+:/.test(repo);
}
