/** Summaries of repeated timings and the markdown table the benchmark prints. */

/** Minimum, median and maximum of a set of samples. */
export interface Summary {
  readonly min: number;
  readonly median: number;
  readonly max: number;
  readonly n: number;
}

/** Summarizes samples; the median of an even count is the mean of the two middle values. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error("no samples to summarize");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return { min: sorted[0] ?? 0, median, max: sorted[sorted.length - 1] ?? 0, n: sorted.length };
}

/** One row of the results table. */
export interface ResultRow {
  readonly run: string;
  readonly measured: string;
  readonly ms: Summary;
  /** Milliseconds the median must stay under, if this row has a target. */
  readonly targetMs?: number;
  readonly objects?: number;
  /** Findings as `errors / warnings`. */
  readonly findings?: string;
  readonly cached?: string;
  readonly peakRssMiB?: number;
}

/** The rows as a GitHub markdown table, times in milliseconds. */
export function markdownTable(rows: readonly ResultRow[]): string {
  const header = ["Run", "Measured", "n", "min ms", "median ms", "max ms", "target", "objects", "findings err/warn", "cached renders", "peak RSS"];
  const lines = [row(header), row(header.map((h, i) => (i >= 2 && i <= 5 ? "---:" : "---")))];
  for (const r of rows) {
    lines.push(row([
      r.run, r.measured, String(r.ms.n), ms(r.ms.min), ms(r.ms.median), ms(r.ms.max),
      r.targetMs === undefined ? "" : `< ${r.targetMs} ${r.ms.median < r.targetMs ? "✅" : "❌"}`,
      r.objects === undefined ? "" : String(r.objects),
      r.findings ?? "", r.cached ?? "",
      r.peakRssMiB === undefined ? "" : `${Math.round(r.peakRssMiB)} MiB`,
    ]));
  }
  return `${lines.join("\n")}\n`;
}

function row(cells: readonly string[]): string {
  return `| ${cells.join(" | ")} |`;
}

function ms(value: number): string {
  return value >= 100 ? String(Math.round(value)) : value.toFixed(1);
}
