/**
 * The web UI benchmark (issue 14): the JS bundle's gzipped size, and the first render of the
 * overview at 1,000 stack instances (4 environments × 250 stacks, bench/api-agent.ts) in headless
 * Chromium. The render time is read in the page with the Performance API: milliseconds from
 * navigation start (`performance.now()` is relative to it) until the grid's first cell
 * (`[data-testid^="cell-"]`) is in the DOM, and until the frame after it (painted). Each
 * repetition is a new browser context, so a cold cache.
 *
 *   node bench/ui.bench.ts [--reps 5] [--ui dist/ui] [--src DIR] [--environments 4] [--stacks 250] [--commit-every 0]
 *
 * `--src DIR` serves the UI from `DIR/../dist/ui`, which this links to `--ui`. Targets: first
 * render < 1.5 s, JS < 300 kB gzipped.
 */
import { randomBytes } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { chromiumMissing, launchBrowser } from "../test/support/browser.ts";
import { startAgentChild } from "./api-load.ts";
import { summarize } from "./stats.ts";

const { values } = parseArgs({
  options: {
    reps: { type: "string", default: "5" },
    ui: { type: "string", default: resolve(import.meta.dirname, "../dist/ui") },
    src: { type: "string" },
    environments: { type: "string", default: "4" },
    stacks: { type: "string", default: "250" },
    "commit-every": { type: "string", default: "0" },
    work: { type: "string", default: resolve(import.meta.dirname, ".work/ui") },
  },
});
const ui = resolve(values.ui);
if (!existsSync(join(ui, "index.html"))) throw new Error(`${ui} has no index.html: run npm run build:ui first`);
const missing = chromiumMissing();
if (missing !== undefined) throw new Error(missing);

// The bundle: what the browser downloads, gzipped as a server would send it (level 9, as nginx's max).
const assets = readdirSync(join(ui, "assets"));
const size = (ext: string): { raw: number; gz: number; files: string[] } => {
  const files = assets.filter((f) => f.endsWith(ext));
  const bufs = files.map((f) => readFileSync(join(ui, "assets", f)));
  return { raw: bufs.reduce((n, b) => n + b.length, 0), gz: bufs.reduce((n, b) => n + gzipSync(b, { level: 9 }).length, 0), files };
};
const js = size(".js");
const css = size(".css");

if (values.src !== undefined) {
  const link = join(dirname(resolve(values.src)), "dist", "ui");
  mkdirSync(dirname(link), { recursive: true });
  if (existsSync(link) || lstatSync(link, { throwIfNoEntry: false }) !== undefined) rmSync(link, { recursive: true, force: true });
  symlinkSync(ui, link);
}
mkdirSync(values.work, { recursive: true });
const loadBefore = loadavg()[0] ?? 0;
const agent = await startAgentChild({
  work: values.work, environments: Number(values.environments), stacks: Number(values.stacks), commitEveryMs: Number(values["commit-every"]),
  token: randomBytes(24).toString("base64url"), anonymousRead: true, ...(values.src === undefined ? {} : { src: resolve(values.src) }),
});

// In-page functions, typed by the few browser globals they use: this file is type-checked without the DOM's types.
interface PageGlobals {
  gridRendered?: { dom: number; frame?: number };
  document: { querySelector(s: string): { textContent: string | null } | null; querySelectorAll(s: string): { length: number } };
  performance: { now(): number; mark(name: string): void; getEntriesByType(t: string): { responseEnd: number; domContentLoadedEventEnd: number }[] };
  MutationObserver: new (fn: () => void) => { observe(target: unknown, o: object): void; disconnect(): void };
  requestAnimationFrame(fn: () => void): void;
  setTimeout(fn: () => void, ms: number): void;
}

/** Installed before the app's scripts: notes when the grid's first cell enters the DOM, then the next frame. */
function gridProbe(): void {
  const w = globalThis as unknown as PageGlobals;
  const observer = new w.MutationObserver(() => {
    if (w.gridRendered !== undefined || w.document.querySelector('[data-testid^="cell-"]') === null) return;
    const rendered: { dom: number; frame?: number } = { dom: w.performance.now() };
    w.gridRendered = rendered;
    w.performance.mark("gitward-bench-grid");
    observer.disconnect();
    w.requestAnimationFrame(() => { w.setTimeout(() => { rendered.frame = w.performance.now(); }, 0); });
  });
  observer.observe(w.document, { childList: true, subtree: true });
}

/** True once the probe saw the painted grid. */
function gridPainted(): boolean {
  return (globalThis as unknown as PageGlobals).gridRendered?.frame !== undefined;
}

/** What the probe saw, with the navigation's own timings. */
function readProbe(): Rendered {
  const w = globalThis as unknown as PageGlobals;
  const nav = w.performance.getEntriesByType("navigation")[0];
  return {
    dom: w.gridRendered?.dom ?? Number.NaN, frame: w.gridRendered?.frame ?? Number.NaN,
    responseEnd: nav?.responseEnd ?? Number.NaN, domContentLoaded: nav?.domContentLoadedEventEnd ?? Number.NaN,
    cells: w.document.querySelectorAll('[data-testid^="cell-"]').length,
    count: w.document.querySelector('[data-testid="grid-count"]')?.textContent ?? "",
  };
}

interface Rendered { dom: number; frame: number; responseEnd: number; domContentLoaded: number; cells: number; count: string }
const samples: Rendered[] = [];
const browser = await launchBrowser();
try {
  for (let r = 0; r < Number(values.reps); r++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.addInitScript(gridProbe);
    await page.goto(`${agent.ready.url}/#/`);
    await page.waitForFunction(gridPainted, undefined, { timeout: 30_000 });
    const m = await page.evaluate(readProbe);
    samples.push(m);
    process.stderr.write(`rep ${String(r + 1)}: grid in DOM ${m.dom.toFixed(0)} ms, painted ${m.frame.toFixed(0)} ms (${String(m.cells)} cells rendered; "${m.count}")\n`);
    await context.close();
  }
} finally {
  await browser.close();
  await agent.stop();
}

const row = (name: string, xs: number[], target?: number): string => {
  const s = summarize(xs);
  return `| ${name} | ${String(s.n)} | ${s.min.toFixed(0)} | ${s.median.toFixed(0)} | ${s.max.toFixed(0)} | ${target === undefined ? "" : `< ${String(target)} ${s.max < target ? "✅" : "❌"}`} |`;
};
const cpu = cpus();
process.stdout.write(`Machine: ${String(cpu.length)} × ${cpu[0]?.model ?? "?"}, ${String(Math.round(totalmem() / 2 ** 30))} GiB, Node ${process.version}, load (1 min) ${loadBefore.toFixed(2)} before, ${(loadavg()[0] ?? 0).toFixed(2)} after\n`);
process.stdout.write(`Overview of ${String(agent.ready.instances)} stack instances, 1280×800, cold cache each time; the grid said "${samples[0]?.count ?? "?"}", ${String(samples[0]?.cells ?? 0)} cells rendered (virtualised)\n\n`);
process.stdout.write("| From navigation start (ms) | n | min | median | max | target |\n| --- | ---: | ---: | ---: | ---: | --- |\n");
process.stdout.write(`${row("index.html received (responseEnd)", samples.map((s) => s.responseEnd))}\n`);
process.stdout.write(`${row("DOMContentLoaded end", samples.map((s) => s.domContentLoaded))}\n`);
process.stdout.write(`${row("grid's first cell in the DOM", samples.map((s) => s.dom))}\n`);
process.stdout.write(`${row("**grid painted (next frame)**", samples.map((s) => s.frame), 1500)}\n\n`);
process.stdout.write(`Bundle: JS ${js.files.join(", ")} ${(js.raw / 1024).toFixed(1)} kB, **${(js.gz / 1024).toFixed(1)} kB gzipped** (target < 300 kB ${js.gz < 300 * 1024 ? "✅" : "❌"}); CSS ${(css.raw / 1024).toFixed(1)} kB, ${(css.gz / 1024).toFixed(1)} kB gzipped\n`);
