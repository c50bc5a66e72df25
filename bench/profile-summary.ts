/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`): where self time goes by function
 * and by file or package, and the inclusive time of gitward's own functions.
 *
 * CLI: node bench/profile-summary.ts FILE.cpuprofile [--top 25]
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

/** The parts of the .cpuprofile format this reads. */
interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
    readonly children?: readonly number[];
  }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

/** A line of the summary: a name and its milliseconds. */
export interface Cost {
  readonly name: string;
  readonly ms: number;
}

/** Self and inclusive times of a profile, largest first. */
export interface ProfileSummary {
  readonly totalMs: number;
  readonly selfByFunction: readonly Cost[];
  readonly selfByFile: readonly Cost[];
  /** Inclusive time of functions in src/ (each counted once per sample, so recursion is not double counted). */
  readonly inclusiveOwn: readonly Cost[];
}

/** Reads the profile and attributes each sample's time to its frames. */
export function summarizeProfile(profile: CpuProfile): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfFn = new Map<string, number>();
  const selfFile = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, ms: number): void => void m.set(k, (m.get(k) ?? 0) + ms);
  profile.samples.forEach((id, i) => {
    // timeDeltas[i] is the time before sample i; it is the best estimate of the sample's duration.
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(id);
    if (node === undefined) return;
    add(selfFn, frameName(node.callFrame), ms);
    add(selfFile, fileGroup(node.callFrame.url, node.callFrame.functionName), ms);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)?.callFrame;
      if (frame === undefined || !frame.url.includes("/src/")) continue;
      const name = frameName(frame);
      if (!seen.has(name)) {
        seen.add(name);
        add(inclusive, name, ms);
      }
    }
  });
  return {
    totalMs: (profile.endTime - profile.startTime) / 1000,
    selfByFunction: sorted(selfFn),
    selfByFile: sorted(selfFile),
    inclusiveOwn: sorted(inclusive),
  };
}

function frameName(frame: CpuProfile["nodes"][number]["callFrame"]): string {
  if (frame.url === "") return frame.functionName === "" ? "(anonymous)" : frame.functionName;
  return `${frame.functionName === "" ? "(anonymous)" : frame.functionName} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

/** `node_modules/yaml/dist/...` -> `yaml`; `.../src/render/x.ts` -> `src/render/x.ts`; node internals by their prefix. */
function fileGroup(url: string, functionName: string): string {
  if (url === "") return functionName.startsWith("(") ? functionName : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg?.[1] !== undefined) return `pkg ${pkg[1]}`;
  if (url.startsWith("node:")) return url.split("/")[0] ?? url;
  return shortUrl(url);
}

function shortUrl(url: string): string {
  const i = url.search(/\/(src|bench|node_modules)\//);
  return i === -1 ? url.replace(/^file:\/\//, "") : url.slice(i + 1);
}

function sorted(m: Map<string, number>): Cost[] {
  return [...m].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
}

function print(title: string, costs: readonly Cost[], top: number, totalMs: number): void {
  process.stdout.write(`\n${title}\n`);
  for (const c of costs.slice(0, top)) {
    process.stdout.write(`${c.ms.toFixed(0).padStart(7)} ms ${((100 * c.ms) / totalMs).toFixed(1).padStart(5)}%  ${c.name}\n`);
  }
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: "string", default: "25" } } });
  const file = positionals[0];
  if (file === undefined) {
    process.stderr.write("usage: node bench/profile-summary.ts FILE.cpuprofile [--top N]\n");
    process.exitCode = 2;
    return;
  }
  const top = Number(values.top);
  const summary = summarizeProfile(JSON.parse(readFileSync(file, "utf8")) as CpuProfile);
  process.stdout.write(`profile: ${summary.totalMs.toFixed(0)} ms\n`);
  print("self time by file or package", summary.selfByFile, top, summary.totalMs);
  print("self time by function", summary.selfByFunction, top, summary.totalMs);
  print("inclusive time, gitward functions (src/)", summary.inclusiveOwn, top, summary.totalMs);
}

if (import.meta.main) main();
