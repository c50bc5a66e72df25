/**
 * The measured side of the render + check benchmark, run in a child process so that each
 * sample has its own module loading, JIT and disk-cache state. It evaluates HEAD of a
 * repository through the engine API, as `gitward validate` does, and refuses to report a
 * broken run: any render failure, error finding, missing object or unexpected cache state
 * throws.
 */
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import type * as EvaluateModule from "../src/engine/evaluate-revision.ts";
import type * as WorkspaceModule from "../src/engine/workspace.ts";

/** Which measurement a child makes. */
export type Phase = "cold" | "warm" | "inproc";

/** What a child is asked to measure. */
export interface PhaseRequest {
  readonly phase: Phase;
  /** The engine's source directory: this checkout's src/, or another version's, to compare. */
  readonly srcDir: string;
  readonly repo: string;
  readonly cacheDir: string;
  /** Objects the repository must render to. */
  readonly expectObjects: number;
  /** Timed evaluations after the first, for `inproc`; 1 otherwise. */
  readonly reps: number;
}

/** One timed evaluation. */
export interface PhaseSample {
  /** Milliseconds from before openWorkspace to after evaluateRevision returned. */
  readonly engineMs: number;
  readonly stacks: number;
  readonly objects: number;
  readonly errors: number;
  readonly warnings: number;
  /** Stack instances answered from the render cache (disk or memory). */
  readonly cachedRenders: number;
}

/** What a child reports: its samples and process-wide figures. */
export interface PhaseReport {
  readonly phase: Phase;
  /** Milliseconds the dynamic import of the engine's modules took (cold module loading). */
  readonly importMs: number;
  readonly samples: readonly PhaseSample[];
  /** Peak resident set size of the child, KiB (process.resourceUsage().maxRSS). */
  readonly maxRssKiB: number;
}

/** The line prefix a child's report is printed after, on stdout. */
export const reportPrefix = "BENCH_REPORT ";

/** Runs one phase in this process and returns its report; throws when the run is not a clean one. */
export async function measurePhase(req: PhaseRequest): Promise<PhaseReport> {
  const t0 = performance.now();
  // Imported here, not at the top, so module loading is measured and the parent never pays for it.
  const [{ openWorkspace }, { evaluateRevision }] = await Promise.all([
    import(moduleUrl(req.srcDir, "engine/workspace.ts")) as Promise<typeof WorkspaceModule>,
    import(moduleUrl(req.srcDir, "engine/evaluate-revision.ts")) as Promise<typeof EvaluateModule>,
  ]);
  const importMs = performance.now() - t0;
  const wsOptions = { repo: req.repo, cacheDir: req.cacheDir, noCache: false, allowRemoteBases: false };
  const samples: PhaseSample[] = [];

  const start = performance.now();
  const ws = await openWorkspace(wsOptions);
  try {
    const evaluate = async (startedAt: number): Promise<PhaseSample> => {
      const result = await evaluateRevision({
        source: ws.source, rev: "HEAD", configPath: "gitward.yaml", filter: {}, renderer: ws.renderer, check: ws.check, configCache: ws.configCache,
      });
      const engineMs = performance.now() - startedAt;
      const failed = result.renders.filter((r) => !r.ok);
      const errors = result.findings.filter((f) => f.severity === "error");
      if (failed.length > 0 || errors.length > 0) {
        const first = errors.slice(0, 5).map((f) => `  ${f.stack ?? "?"}: ${f.rule}: ${f.message}`).join("\n");
        throw new Error(`broken run: ${failed.length} failed render(s), ${errors.length} error finding(s)\n${first}`);
      }
      return {
        engineMs,
        stacks: result.renders.length,
        objects: result.renders.reduce((n, r) => n + (r.ok ? r.objects.length : 0), 0),
        errors: errors.length,
        warnings: result.findings.length - errors.length,
        cachedRenders: result.renders.filter((r) => r.ok && r.cached).length,
      };
    };
    const first = await evaluate(start);
    expect(first, req, req.phase === "cold" ? 0 : first.stacks);
    // inproc: the first evaluation warmed this process; what follows reuses the workspace,
    // as a long-running agent does, so renders come from the memory layer.
    if (req.phase !== "inproc") samples.push(first);
    for (let i = 0; req.phase === "inproc" && i < req.reps; i++) {
      const sample = await evaluate(performance.now());
      expect(sample, req, sample.stacks);
      samples.push(sample);
    }
  } finally {
    await ws.close();
  }
  return { phase: req.phase, importMs, samples, maxRssKiB: process.resourceUsage().maxRSS };
}

function moduleUrl(srcDir: string, path: string): string {
  return pathToFileURL(join(srcDir, path)).href;
}

function expect(sample: PhaseSample, req: PhaseRequest, cached: number): void {
  if (sample.objects !== req.expectObjects) throw new Error(`broken run: ${sample.objects} objects, expected ${req.expectObjects}`);
  if (sample.cachedRenders !== cached) {
    throw new Error(`broken ${req.phase} run: ${sample.cachedRenders} of ${sample.stacks} renders came from the cache, expected ${cached}`);
  }
}
