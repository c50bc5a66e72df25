import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { findCycles, importSpecifiers } from "../scripts/check-structure.ts";

const script = join(dirname(dirname(fileURLToPath(import.meta.url))), "scripts", "check-structure.ts");

function run(...args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe("the project's structure", () => {
  it("has no file in src/ over 400 lines and no import cycle", () => {
    const r = run();
    assert.equal(r.code, 0, r.out);
  });
});

describe("check-structure", () => {
  const dirs: string[] = [];
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  function tree(files: Record<string, string>): string {
    const root = mkdtempSync(join(tmpdir(), "gitward-structure-"));
    dirs.push(root);
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, "src", path)), { recursive: true });
      writeFileSync(join(root, "src", path), text);
    }
    return join(root, "src");
  }
  const lines = (n: number): string => "export const x = 1;\n".repeat(n);

  const cases: { name: string; files: Record<string, string>; code: number; want: string[] }[] = [
    { name: "a clean tree passes", files: { "a.ts": 'import { b } from "./b.ts";\n', "b.ts": "export const b = 1;\n" }, code: 0, want: ["structure ok: 2 files"] },
    { name: "a file of 400 lines passes", files: { "a.ts": lines(400) }, code: 0, want: ["structure ok"] },
    { name: "a file of 401 lines fails", files: { "big/long.ts": lines(401) }, code: 1, want: ["src/big/long.ts: 401 lines (over 400)"] },
    {
      name: "a cycle of two files",
      files: { "a.ts": 'import { b } from "./b.ts";\nexport const a = b;\n', "b.ts": 'import { a } from "./a.ts";\nexport const b = a;\n' },
      code: 1, want: ["import cycle: src/a.ts → src/b.ts → src/a.ts"],
    },
    {
      name: "a type-only cycle across directories",
      files: { "x/a.ts": 'import type { B } from "../y/b.ts";\nexport type A = B;\n', "y/b.ts": 'import type { A } from "../x/a.ts";\nexport type B = A;\n' },
      code: 1, want: ["import cycle: src/x/a.ts → src/y/b.ts → src/x/a.ts"],
    },
    {
      name: "a cycle through export … from and a side-effect import",
      files: { "a.ts": 'export { b } from "./b.ts";\n', "b.ts": 'import "./c.ts";\nexport const b = 1;\n', "c.ts": 'export * from "./a.ts";\n' },
      code: 1, want: ["import cycle: src/a.ts → src/b.ts → src/c.ts → src/a.ts"],
    },
    {
      name: "a .js specifier of a .ts file",
      files: { "a.ts": 'import { b } from "./b.js";\n', "b.ts": 'import { a } from "./a.js";\n' },
      code: 1, want: ["import cycle: src/a.ts → src/b.ts → src/a.ts"],
    },
    {
      name: "a dynamic import() is not followed",
      files: { "a.ts": 'import { b } from "./b.ts";\n', "b.ts": 'export const b = () => import("./a.ts");\n' },
      code: 0, want: ["structure ok"],
    },
    {
      name: "imports in comments and strings are not followed",
      files: { "a.ts": 'import { b } from "./b.ts";\n', "b.ts": '// import { a } from "./a.ts";\nexport const s = `import { a } from "./a.ts"`;\n' },
      code: 0, want: ["structure ok"],
    },
    {
      name: "a long file and a cycle are both listed",
      files: { "long.ts": lines(450), "p.ts": 'import "./q.ts";\n', "q.ts": 'import "./p.ts";\n' },
      code: 1, want: ["src/long.ts: 450 lines (over 400)", "import cycle: src/p.ts → src/q.ts → src/p.ts"],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = run(tree(c.files));
      assert.equal(r.code, c.code, r.out);
      for (const w of c.want) assert.ok(r.out.includes(w), `${w} missing from:\n${r.out}`);
    });
  }

  it("honours --max-lines", () => {
    const r = run(tree({ "a.ts": lines(11) }), "--max-lines", "10");
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /src\/a\.ts: 11 lines \(over 10\)/);
  });

  it("refuses a directory that is not there", () => {
    assert.equal(run(join(tmpdir(), "gitward-structure-missing-dir")).code, 2);
  });
});

describe("findCycles", () => {
  const cases = [
    { name: "none", graph: { a: ["b"], b: [] }, want: [] },
    { name: "a self-import", graph: { a: ["a"] }, want: [["a", "a"]] },
    { name: "the shortest cycle of a group", graph: { a: ["b", "c"], b: ["c"], c: ["a"] }, want: [["a", "c", "a"]] },
    { name: "one cycle per group", graph: { a: ["b"], b: ["a"], c: ["d"], d: ["c"], e: ["a"] }, want: [["a", "b", "a"], ["c", "d", "c"]] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(findCycles(new Map(Object.entries(c.graph))), c.want));
});

describe("importSpecifiers", () => {
  const cases = [
    { name: "import, import type, export from", text: 'import a from "./a.ts";\nimport type { B } from "./b.ts";\nexport { c } from "./c.ts";\nexport type { D } from "./d.ts";\n', want: ["./a.ts", "./b.ts", "./c.ts", "./d.ts"] },
    { name: "a side-effect import", text: 'import "./e.ts";\n', want: ["./e.ts"] },
    { name: "not dynamic import()", text: 'export const f = () => import("./f.ts");\n', want: [] },
    { name: "not a comment", text: '/* import g from "./g.ts"; */\n', want: [] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(importSpecifiers("x.ts", c.text), c.want));
});
