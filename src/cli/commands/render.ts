import { Command } from "commander";
import { stringify } from "yaml";
import { formatLocation } from "../../core/location.ts";
import { evaluateRevision } from "../../engine/evaluate-revision.ts";
import { openWorkspace } from "../../engine/workspace.ts";
import { findingsText } from "../../plan/format-text.ts";
import { addCommonOptions, addOutputOption, instanceFilter, verificationFrom, workspaceOptions, type CommonFlags } from "../common-options.ts";
import { ExitCode } from "../exit-codes.ts";
import type { CliIO } from "../io.ts";

interface RenderFlags extends CommonFlags {
  rev: string;
  output: "yaml" | "json";
}

/** `gitward render`: print the objects each stack renders to at a revision. */
export function renderCommand(run: (action: (io: CliIO, flags: RenderFlags) => Promise<number>) => (flags: RenderFlags) => Promise<void>): Command {
  const cmd = new Command("render")
    .description("Print the objects each stack renders to, per environment (no checks)")
    .option("-r, --rev <rev>", "revision to render", "HEAD");
  addOutputOption(addCommonOptions(cmd), ["yaml", "json"]);
  return cmd.action(run(render));
}

async function render(io: CliIO, flags: RenderFlags): Promise<number> {
  const ws = await openWorkspace({ ...workspaceOptions(flags, io.progress), noSchema: true });
  try {
    const verification = verificationFrom(flags);
    const result = await evaluateRevision({
      source: ws.source, rev: flags.rev, configPath: flags.config, filter: instanceFilter(flags),
      renderer: ws.renderer, check: ws.check, configCache: ws.configCache, renderOnly: true, ...(verification === undefined ? {} : { verification }),
    });
    const failed = result.renders.filter((r) => !r.ok);
    if (flags.output === "json") {
      io.out(JSON.stringify({
        formatVersion: 1, revision: result.commit.sha,
        stacks: result.renders.map((r) => ({
          environment: r.instance.environment, stack: r.instance.stack, target: r.instance.targetName, dir: r.instance.dir,
          ...(r.ok ? { objects: r.objects } : { error: r.error.message }),
        })),
      }, null, 2) + "\n");
    } else {
      const docs: string[] = [];
      for (const r of result.renders) {
        if (!r.ok) continue;
        for (const obj of r.objects) {
          const head = `# environment: ${r.instance.environment}, stack: ${r.instance.stack}, source: ${formatLocation(obj.source)}\n`;
          docs.push(head + stringify(obj.object, { version: "1.2", lineWidth: 0 }));
        }
      }
      io.out(docs.map((d) => `---\n${d}`).join(""));
    }
    if (failed.length > 0) io.err(findingsText(result.findings.filter((f) => f.rule.startsWith("render.")), io.errColors));
    return failed.length > 0 ? ExitCode.Error : ExitCode.Ok;
  } finally {
    await ws.close();
  }
}
