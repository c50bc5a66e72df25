import type { Logger } from "pino";
import { CommandStartError, type CommandResult, type CommandRunner } from "../../core/command-runner.ts";
import { maskSecretsInText } from "../../core/mask-secrets.ts";

/** One line of Terraform's machine-readable UI (`-json`): its message, type, and the fields this package reads. */
export interface TerraformEvent {
  readonly level: string;
  readonly message: string;
  readonly type: string;
  readonly diagnostic?: { readonly severity: string; readonly summary: string; readonly detail: string; readonly address?: string };
  readonly hook?: { readonly resource?: { readonly addr?: string }; readonly action?: string };
}

/** A finished Terraform command: its exit code, its events (for `-json` commands) and its text. */
export interface TerraformRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly events: readonly TerraformEvent[];
  readonly timedOut: boolean;
}

/** Where and how Terraform commands of one working directory run. */
export interface TerraformCliOptions {
  readonly runner: CommandRunner;
  readonly binary: string;
  /** Environment for every command: the target's variables, then gitward's (data dir, plugin cache). */
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly logger?: Logger | undefined;
  /** Names the stack instance in log lines. */
  readonly label: string;
}

/** Bytes of Terraform's text kept in a plan's or an apply's log. */
export const logCap = 64 * 1024;

/** Runs Terraform commands through the runner, with argument arrays, a timeout and output caps. */
export class TerraformCli {
  readonly #o: TerraformCliOptions;

  constructor(options: TerraformCliOptions) {
    this.#o = options;
  }

  /** Runs `terraform <args>` in `cwd`; a non-zero exit is a result. A program that cannot start throws, naming the binary. */
  async run(args: readonly string[], cwd: string, signal?: AbortSignal, env: Readonly<Record<string, string>> = {}): Promise<TerraformRun> {
    const started = performance.now();
    let r: CommandResult;
    try {
      r = await this.#o.runner.run({
        command: this.#o.binary, args, cwd, env: { ...this.#o.env, ...env }, timeoutMs: this.#o.timeoutMs,
        maxStderrBytes: 256 * 1024,
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (e: unknown) {
      if (e instanceof CommandStartError) throw new Error(`cannot run Terraform (${this.#o.binary}): ${e.errno ?? e.message}`, { cause: e });
      throw e;
    }
    // Only the subcommand is logged: arguments may carry backend settings.
    this.#o.logger?.debug({ stack: this.#o.label, command: args[0], exitCode: r.exitCode, ms: Math.round(performance.now() - started) }, "terraform command");
    const stdout = r.stdout.toString("utf8");
    const events = args.includes("-json") ? parseEvents(stdout) : [];
    return { exitCode: r.timedOut ? -1 : r.exitCode, stdout, stderr: r.stderr, events, timedOut: r.timedOut };
  }
}

/** Parses Terraform's JSON lines; a line that is not one (a provider's stray print) is kept as a plain message. */
export function parseEvents(stdout: string): TerraformEvent[] {
  const out: TerraformEvent[] = [];
  for (const line of stdout.split("\n")) {
    if (line.trim() === "") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      out.push({ level: "info", message: line, type: "text" });
      continue;
    }
    out.push(eventOf(parsed, line));
  }
  return out;
}

function eventOf(v: unknown, line: string): TerraformEvent {
  if (typeof v !== "object" || v === null) return { level: "info", message: line, type: "text" };
  const o = v as Record<string, unknown>;
  const str = (x: unknown): string => (typeof x === "string" ? x : "");
  const ev: { -readonly [K in keyof TerraformEvent]: TerraformEvent[K] } = { level: str(o["@level"]), message: str(o["@message"]), type: str(o["type"]) };
  const d = o["diagnostic"];
  if (typeof d === "object" && d !== null) {
    const dd = d as Record<string, unknown>;
    ev.diagnostic = { severity: str(dd["severity"]), summary: str(dd["summary"]), detail: str(dd["detail"]), ...(typeof dd["address"] === "string" ? { address: dd["address"] } : {}) };
  }
  const h = o["hook"];
  if (typeof h === "object" && h !== null) {
    const hh = h as Record<string, unknown>;
    const res = hh["resource"];
    const addr = typeof res === "object" && res !== null ? (res as Record<string, unknown>)["addr"] : undefined;
    ev.hook = { ...(typeof addr === "string" ? { resource: { addr } } : {}), ...(typeof hh["action"] === "string" ? { action: hh["action"] } : {}) };
  }
  return ev;
}

/** The error diagnostics of a run: from its events, else the `Error:` blocks of its text. */
export function errorDiagnostics(run: TerraformRun): string[] {
  const fromEvents = run.events
    .filter((e) => e.diagnostic?.severity === "error")
    .map((e) => {
      const d = e.diagnostic!;
      const where = d.address === undefined ? "" : `${d.address}: `;
      return `${where}${d.summary}${d.detail === "" ? "" : `: ${oneLine(d.detail)}`}`;
    });
  if (fromEvents.length > 0) return fromEvents;
  const text = `${run.stdout}\n${run.stderr}`;
  const blocks = text.split(/\n(?=\s*(?:│\s*)?Error: )/).filter((b) => /^\s*(?:│\s*)?Error: /.test(b));
  if (blocks.length > 0) return blocks.map(textDiagnostic);
  if (run.timedOut) return ["timed out"];
  const tail = oneLine(text).slice(-500);
  return tail === "" ? [`exited ${run.exitCode}`] : [tail];
}

/** True when a run failed for a diagnostic with this summary (Terraform's structured field, not its prose). */
export function hasDiagnostic(run: TerraformRun, summaries: readonly string[]): boolean {
  return run.events.some((e) => e.diagnostic?.severity === "error" && summaries.includes(e.diagnostic.summary));
}

/** A run's log: its events' messages (or its text), with stderr, masked and capped at {@link logCap} keeping head and tail. */
export function logOf(runs: readonly TerraformRun[], secrets: ReadonlySet<string>): string {
  const parts: string[] = [];
  for (const run of runs) {
    const body = run.events.length > 0 ? run.events.filter((e) => e.type !== "version").map((e) => e.message).join("\n") : run.stdout;
    parts.push(body.trimEnd());
    if (run.stderr.trim() !== "") parts.push(run.stderr.trimEnd());
  }
  return capText(maskText(parts.filter((p) => p !== "").join("\n"), secrets));
}

/** Text with the given secret values and whatever looks like a credential masked. */
export function maskText(text: string, secrets: ReadonlySet<string>): string {
  return maskSecretsInText(text, { secretValues: secrets });
}

function capText(text: string): string {
  if (Buffer.byteLength(text) <= logCap) return text;
  const half = logCap / 2;
  const buf = Buffer.from(text);
  const head = buf.subarray(0, half).toString("utf8");
  const tail = buf.subarray(buf.length - half).toString("utf8");
  return `${head}\n… (${buf.length - logCap} bytes of Terraform's output left out) …\n${tail}`;
}

// `Error: <summary>` then a blank line and the detail, inside a box drawn with │ when colors are on.
function textDiagnostic(block: string): string {
  const lines = block.replace(/│/g, "").replace(/^\s*Error: /, "").split("\n");
  const summary = (lines[0] ?? "").trim();
  const detail = oneLine(lines.slice(1).join("\n").replace(/╵/g, ""));
  return detail === "" ? summary : `${summary}: ${detail}`;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}
