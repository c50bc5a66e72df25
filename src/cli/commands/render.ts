import { Command } from "commander";
import { stringify } from "yaml";
import { formatLocation } from "../../core/location.ts";
import { evaluateRevision } from "../../engine/evaluate-revision.ts";
import { openWorkspace } from "../../engine/workspace.ts";
import { findingsText } from "../../plan/format-text.ts";
import { addCommonOptions, addOutputOption, instanceFilter, verificationFrom, workspaceOptions, type CommonFlags } from "../common-options.ts";
import { ExitCode } from "../exit-codes.ts";
import { ErrorCode, GitwardError } from "../../core/errors.ts";
import { maskSecrets } from "../../core/mask-secrets.ts";
import { decryptForTarget } from "../../engine/decrypt-stage.ts";
import { SecretKeys } from "../../engine/secret-keys.ts";
import type { RenderResult } from "../../render/renderer.ts";
import type { CliIO } from "../io.ts";

interface RenderFlags extends CommonFlags {
  rev: string;
  output: "yaml" | "json";
  decrypt?: boolean;
  showSecrets?: boolean;
}

/** `gitward render`: print the objects each stack renders to at a revision. */
export function renderCommand(run: (action: (io: CliIO, flags: RenderFlags) => Promise<number>) => (flags: RenderFlags) => Promise<void>): Command {
  const cmd = new Command("render")
    .description("Print the objects each stack renders to, per environment (no checks)")
    .option("-r, --rev <rev>", "revision to render", "HEAD")
    .option("--decrypt", "decrypt SOPS-encrypted objects with this runner's keys (SOPS_AGE_KEY_FILE, SOPS_AGE_KEY, GnuPG); values stay masked")
    .option("--show-secrets", "with --decrypt: print decrypted values in clear");
  addOutputOption(addCommonOptions(cmd), ["yaml", "json"]);
  return cmd.action(run(render));
}

async function render(io: CliIO, flags: RenderFlags): Promise<number> {
  if (flags.showSecrets === true && flags.decrypt !== true) {
    throw new GitwardError(ErrorCode.Config, "--show-secrets shows decrypted values: it needs --decrypt", { hint: "gitward render --decrypt --show-secrets" });
  }
  const ws = await openWorkspace({ ...workspaceOptions(flags, io.progress), noSchema: true });
  try {
    const verification = verificationFrom(flags);
    const result = await evaluateRevision({
      source: ws.source, rev: flags.rev, configPath: flags.config, filter: instanceFilter(flags),
      renderer: ws.renderer, check: ws.check, configCache: ws.configCache, renderOnly: true, ...(verification === undefined ? {} : { verification }),
    });
    const renders = flags.decrypt === true ? await decryptRenders(result.renders, flags.showSecrets === true) : result.renders;
    const failed = renders.filter((r) => !r.ok);
    if (flags.output === "json") {
      io.out(JSON.stringify({
        formatVersion: 1, revision: result.commit.sha,
        stacks: renders.map((r) => ({
          environment: r.instance.environment, stack: r.instance.stack, target: r.instance.targetName, dir: r.instance.dir,
          ...(r.ok ? { objects: r.objects.map(({ object, ref, apiVersion, source }) => ({ object, ref, apiVersion, source })) } : { error: r.error.message }),
        })),
      }, null, 2) + "\n");
    } else {
      const docs: string[] = [];
      for (const r of renders) {
        if (!r.ok) continue;
        for (const obj of r.objects) {
          const head = `# environment: ${r.instance.environment}, stack: ${r.instance.stack}, source: ${formatLocation(obj.source)}\n`;
          docs.push(head + stringify(obj.object, { version: "1.2", lineWidth: 0 }));
        }
      }
      io.out(docs.map((d) => `---\n${d}`).join(""));
    }
    if (failed.length > 0) io.err(findingsText(result.findings.filter((f) => f.rule.startsWith("render.")), io.errColors));
    if (flags.decrypt === true) for (const r of renders) if (!r.ok && !result.renders.includes(r)) io.err(`${r.instance.environment}/${r.instance.stack}: ${r.error.message}${r.error.hint === undefined ? "" : ` (hint: ${r.error.hint})`}\n`);
    return failed.length > 0 ? ExitCode.Error : ExitCode.Ok;
  } finally {
    await ws.close();
  }
}

/**
 * The renders with SOPS data decrypted by this runner's keys, each environment with its own
 * (the sops conventions of the environment); masked as plans are unless `show` says otherwise.
 * A stack whose files this runner cannot decrypt becomes a failed render naming why.
 */
async function decryptRenders(renders: readonly RenderResult[], show: boolean): Promise<RenderResult[]> {
  const keys = new SecretKeys();
  const out: RenderResult[] = [];
  for (const r of renders) {
    if (!r.ok) {
      out.push(r);
      continue;
    }
    const env = r.instance.environment;
    try {
      const objects = await decryptForTarget(r.objects, { environment: env, keyring: () => keys.keyring(env), keyHint: keys.hint(env) });
      out.push({ ...r, objects: show ? objects : objects.map((o) => ({ ...o, object: maskSecrets(o.object, { fields: o.secretFields }) })) });
    } catch (e: unknown) {
      out.push({ instance: r.instance, ok: false, error: e instanceof GitwardError ? e : new GitwardError(ErrorCode.Internal, "decryption failed") });
    }
  }
  return out;
}
