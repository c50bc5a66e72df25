// Checks the shape the project keeps: no source file over 400 lines, and no import cycle among
// the files under src/ (type-only imports included: a cycle of types is still two files that
// cannot be understood one without the other). Dynamic import() is a deliberate lazy edge and
// is not followed.
//
//   node scripts/check-structure.ts [srcDir] [--max-lines N]
//
// Exits 0 when the tree keeps the shape, 1 listing every offender, 2 on bad arguments.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** The line limit of a source file. */
export const defaultMaxLines = 400;

/** A file over the limit. */
export interface LongFile {
  readonly file: string;
  readonly lines: number;
}

/** What {@link checkStructure} found; paths relative to the parent of the checked directory. */
export interface StructureReport {
  readonly files: number;
  readonly longFiles: readonly LongFile[];
  /** One cycle per group of files that import each other, as a path that ends where it starts. */
  readonly cycles: readonly (readonly string[])[];
}

/** Reads every source file under `srcDir`, counts its lines and follows its relative imports. */
export function checkStructure(srcDir: string, maxLines = defaultMaxLines): StructureReport {
  const root = resolve(srcDir);
  const base = dirname(root);
  const files = sourceFiles(root);
  const longFiles: LongFile[] = [];
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    const lines = lineCount(text);
    if (lines > maxLines) longFiles.push({ file: relative(base, file), lines });
    const targets = importSpecifiers(file, text)
      .map((spec) => resolveImport(file, spec))
      .filter((t): t is string => t !== undefined && t.startsWith(root + "/"));
    graph.set(file, [...new Set(targets)].sort());
  }
  const cycles = findCycles(graph).map((cycle) => cycle.map((f) => relative(base, f)));
  return { files: files.length, longFiles: longFiles.sort((a, b) => b.lines - a.lines), cycles };
}

/** The report as the lines the script prints. */
export function formatReport(report: StructureReport, maxLines = defaultMaxLines): string[] {
  const out: string[] = [];
  for (const f of report.longFiles) out.push(`${f.file}: ${f.lines} lines (over ${maxLines})`);
  for (const c of report.cycles) out.push(`import cycle: ${c.join(" → ")}`);
  if (out.length === 0) out.push(`structure ok: ${report.files} files, none over ${maxLines} lines, no import cycle`);
  return out;
}

const sourceExtensions = /\.(?:[cm]?ts|tsx|[cm]?js|jsx)$/;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.isFile() && sourceExtensions.test(entry.name)) out.push(path);
  }
  return out;
}

function lineCount(text: string): number {
  if (text === "") return 0;
  return text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
}

/** The specifiers of a file's static imports and re-exports (`import type` and `export … from` included). */
export function importSpecifiers(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, file.endsWith("x") ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const out: string[] = [];
  for (const stmt of source.statements) {
    let spec: ts.Expression | undefined;
    if (ts.isImportDeclaration(stmt) || ts.isExportDeclaration(stmt)) spec = stmt.moduleSpecifier;
    else if (ts.isImportEqualsDeclaration(stmt) && ts.isExternalModuleReference(stmt.moduleReference)) spec = stmt.moduleReference.expression;
    if (spec !== undefined && ts.isStringLiteral(spec)) out.push(spec.text);
  }
  return out;
}

// Relative specifiers only; `.js` written for a `.ts` file and extensionless paths resolve as TypeScript resolves them.
function resolveImport(from: string, spec: string): string | undefined {
  if (!spec.startsWith("./") && !spec.startsWith("../")) return undefined;
  const path = resolve(dirname(from), spec);
  const candidates = [path, path.replace(/\.([cm]?)js$/, ".$1ts"), path.replace(/\.jsx$/, ".tsx"), `${path}.ts`, `${path}.tsx`, join(path, "index.ts")];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

/**
 * One cycle for each strongly connected group of files (Tarjan), the shortest through the group's
 * first file, as a path that returns to where it starts; a file importing itself is a cycle too.
 */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  for (const group of stronglyConnected(graph)) {
    const members = new Set(group);
    const start = [...group].sort()[0] as string;
    if (group.length === 1 && !(graph.get(start) ?? []).includes(start)) continue;
    cycles.push(shortestCycle(graph, start, members));
  }
  return cycles.sort((a, b) => (a[0] ?? "").localeCompare(b[0] ?? ""));
}

function stronglyConnected(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  let next = 0;
  // Iterative, so a deep import chain cannot overflow the call stack.
  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    const work: { node: string; edge: number }[] = [{ node: root, edge: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { node: string; edge: number };
      const edges = graph.get(frame.node) ?? [];
      if (frame.edge < edges.length) {
        const to = edges[frame.edge++] as string;
        if (!index.has(to)) {
          index.set(to, next);
          low.set(to, next++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, edge: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node) as number, index.get(to) as number));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node) as number, low.get(frame.node) as number));
      if (low.get(frame.node) === index.get(frame.node)) {
        const group: string[] = [];
        let member: string | undefined;
        do {
          member = stack.pop();
          if (member === undefined) break;
          onStack.delete(member);
          group.push(member);
        } while (member !== frame.node);
        groups.push(group);
      }
    }
  }
  return groups;
}

// Breadth-first from start back to start, inside the group.
function shortestCycle(graph: ReadonlyMap<string, readonly string[]>, start: string, members: ReadonlySet<string>): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i] as string;
    for (const to of graph.get(node) ?? []) {
      if (!members.has(to)) continue;
      if (to === start) {
        const path = [start];
        for (let at: string | undefined = node; at !== start && at !== undefined; at = previous.get(at)) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!previous.has(to)) {
        previous.set(to, node);
        queue.push(to);
      }
    }
  }
  return [start, start];
}

function main(argv: readonly string[]): number {
  let dir: string | undefined;
  let maxLines = defaultMaxLines;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === "--max-lines") {
      maxLines = Number(argv[++i]);
      if (!Number.isInteger(maxLines) || maxLines < 1) {
        console.error("check-structure: --max-lines takes a positive whole number");
        return 2;
      }
    } else if (dir === undefined && !arg.startsWith("-")) {
      dir = arg;
    } else {
      console.error(`check-structure: unexpected argument ${arg}\nusage: node scripts/check-structure.ts [srcDir] [--max-lines N]`);
      return 2;
    }
  }
  const srcDir = dir ?? join(dirname(dirname(fileURLToPath(import.meta.url))), "src");
  if (!existsSync(srcDir) || !statSync(srcDir).isDirectory()) {
    console.error(`check-structure: ${srcDir} is not a directory`);
    return 2;
  }
  const report = checkStructure(srcDir, maxLines);
  const failed = report.longFiles.length > 0 || report.cycles.length > 0;
  const lines = formatReport(report, maxLines);
  if (failed) console.error(lines.join("\n"));
  else console.log(lines.join("\n"));
  return failed ? 1 : 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
