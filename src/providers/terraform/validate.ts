import { z } from "zod";
import { errorDiagnostics, maskText, type TerraformCli } from "./cli.ts";
import type { TerraformValidation } from "./types.ts";
import type { WorkingPaths } from "./working-copy.ts";

const validateJson = z
  .object({
    valid: z.boolean(),
    diagnostics: z.array(
      z.object({
        severity: z.string(),
        summary: z.string(),
        detail: z.string().optional(),
        range: z.object({ filename: z.string(), start: z.object({ line: z.number() }).loose() }).loose().optional(),
      }).loose(),
    ),
  })
  .loose();

/**
 * Validates the private copy of a module without its backend (no credentials needed): `init
 * -backend=false` in a data directory of its own, `validate -json`, then `fmt -check`. Every
 * problem is one masked line; warnings are listed but do not fail.
 */
export async function validateModule(cli: TerraformCli, paths: WorkingPaths, secrets: ReadonlySet<string>, signal?: AbortSignal): Promise<TerraformValidation> {
  const env = { TF_DATA_DIR: paths.validateDataDir };
  const mask = (lines: readonly string[]): string[] => lines.map((l) => maskText(l, secrets));
  const init = await cli.run(["init", "-backend=false", "-input=false", "-no-color"], paths.root, signal, env);
  if (init.exitCode !== 0) return { ok: false, diagnostics: mask(errorDiagnostics(init).map((d) => `error: init: ${d}`)) };
  const validate = await cli.run(["validate", "-json", "-no-color"], paths.root, signal, env);
  const parsed = validateJson.safeParse(safeJson(validate.stdout));
  const diagnostics: string[] = [];
  let ok = true;
  if (parsed.success) {
    ok = parsed.data.valid;
    for (const d of parsed.data.diagnostics) {
      const where = d.range === undefined ? "" : `${d.range.filename}:${d.range.start.line}: `;
      diagnostics.push(`${d.severity}: ${where}${d.summary}${d.detail === undefined || d.detail === "" ? "" : `: ${d.detail.replace(/\s+/g, " ").trim()}`}`);
    }
  } else {
    ok = false;
    diagnostics.push(...errorDiagnostics(validate).map((d) => `error: validate: ${d}`));
  }
  const fmt = await cli.run(["fmt", "-check", "-recursive", "-list=true", "-no-color"], paths.root, signal, env);
  if (fmt.exitCode !== 0) {
    ok = false;
    const files = fmt.stdout.split("\n").map((l) => l.trim()).filter((l) => l !== "");
    diagnostics.push(...(files.length > 0 ? files.map((f) => `format: ${f} is not formatted (terraform fmt)`) : errorDiagnostics(fmt).map((d) => `error: fmt: ${d}`)));
  }
  return { ok, diagnostics: mask(diagnostics) };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
