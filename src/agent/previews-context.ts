import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { ErrorCode, GitwardError } from "../core/errors.ts";
import type { TargetRef } from "../engine/target-pool.ts";
import type { ProviderContext } from "../providers/provider.ts";
import type { AgentConfig } from "./config.ts";

/** The agent configuration's key for the credentials previews use on a target. */
export function previewCredentialsKey(targetName: string): string {
  return `previews/${targetName}`;
}

/**
 * The credentials a preview environment opens a target with: only the agent configuration's
 * `previews/<target>` entry, never the template environment's (`dev/<target>`) nor the bare
 * `<target>` one, so that whoever can open a pull request never reaches another environment
 * with its credentials. A host target's root is `<that root>/<preview name>`, so previews never
 * share a directory. Throws a configuration error naming the entry to add when there is none.
 */
export function previewTargetContext(target: TargetRef, targets: AgentConfig["targets"]): ProviderContext {
  const key = previewCredentialsKey(target.targetName);
  const creds = targets[key];
  const missing = (what: string): GitwardError => new GitwardError(ErrorCode.Config,
    `preview ${target.environment}: target ${target.targetName} has no ${what} for previews in the agent configuration`,
    { hint: `add targets."${key}" to the agent configuration (${target.target.provider === "host" ? "with root: a directory for previews" : "with kubeconfig: and context: for previews"}); previews never use another environment's credentials` });
  if (creds === undefined) throw missing("credentials");
  if (target.target.provider === "host" && creds.root === undefined) throw missing("root directory");
  return {
    ...(creds.kubeconfig === undefined ? {} : { kubeconfigPath: creds.kubeconfig }),
    ...(creds.context === undefined ? {} : { context: creds.context }),
    ...(creds.root === undefined ? {} : { hostRoots: { [target.targetName]: previewRoot(creds.root, target.environment) } }),
    hostCommands: { [target.targetName]: creds.commands ?? {} },
  };
}

/** The directory of one preview on a host target: its own, under the previews' root. */
export function previewRoot(root: string, environment: string): string {
  return join(root, environment);
}

/**
 * Creates a preview's own directory on each host target it deploys to (the host provider does
 * not create roots): under the `previews/<target>` root, which the operator creates.
 */
export async function preparePreviewRoots(targets: readonly TargetRef[], credentials: AgentConfig["targets"]): Promise<void> {
  for (const t of targets) {
    const root = credentials[previewCredentialsKey(t.targetName)]?.root;
    if (t.target.provider !== "host" || root === undefined) continue;
    try {
      await mkdir(previewRoot(root, t.environment), { mode: 0o755 });
    } catch (e: unknown) {
      // A missing previews root is reported by the stack's sync, with the provider's hint.
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" && (e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
}
