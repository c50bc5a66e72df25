// Fuzzing the parsers of what a repository holds: manifests (parse-manifests.ts, yaml-fast.ts)
// and gitward.yaml (load-config.ts). Inputs are real fixtures, mutated by a seeded PRNG, so a
// failure names its seed and case and replays with FUZZ_SEED=<seed> FUZZ_CASE=<case>. Every
// input must give objects or a gitward error that says where (the file, and the line except for
// a binary file) and is not an internal error; nothing may throw anything else, and the run
// stays within its time and memory budgets.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ConfigError } from "../../src/config/config-error.ts";
import { parseConfig } from "../../src/config/load-config.ts";
import { GitwardError } from "../../src/core/errors.ts";
import { isManifestFile, parseManifestFile, type ParseOptions } from "../../src/render/parse-manifests.ts";

const root = join(import.meta.dirname, "../..");
const seed = Number(process.env["FUZZ_SEED"] ?? 20261206);
const onlyCase = process.env["FUZZ_CASE"] === undefined ? undefined : Number(process.env["FUZZ_CASE"]);
/** Wall time each parser is fuzzed for; the cases are the same on every machine, fewer run on a slow one. */
const budgetMs = 8_000;
const maxCases = 4_000;

/** mulberry32: a small deterministic PRNG answering integers below n. */
function prng(s: number): (n: number) => number {
  let state = s;
  return (n) => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

function fixtures(dirs: readonly string[], keep: (f: string) => boolean): Buffer[] {
  return dirs.flatMap((dir) => readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
    .filter(keep)
    .map((f) => readFileSync(join(root, dir, f))));
}

const fragments = [
  "---\n", "...\n", "%YAML 1.1\n---\n", "&a ", "*a", "<<: *a\n", "<<: ", "!!binary ", "!!set ", "!foo ", "? ", ": ", "- ", "[", "]", "{", "}", ",",
  "'", "\"", "|\n", ">-\n", "#", "\t", "\r", "\r\n", "\uFEFF", "\u0085", "${x}", "$${x}", "${nope:=d}", "~", "1e999", "0x", "\\", "\n  ", "\0",
];

/** One mutation of `input`: the ways real files go wrong, and the ways attackers shape them. */
function mutate(input: Buffer, rnd: (n: number) => number): Buffer {
  const at = rnd(input.length + 1);
  const cut = (b: Buffer): Buffer => Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rnd(8)))]);
  const insert = (b: Buffer, what: Buffer): Buffer => Buffer.concat([b.subarray(0, at), what, b.subarray(at)]);
  switch (rnd(12)) {
    case 0: { // flip bytes, often into invalid UTF-8
      const out = Buffer.from(input);
      for (let n = 1 + rnd(4); n > 0 && out.length > 0; n--) out[rnd(out.length)] = rnd(256);
      return out;
    }
    case 1: return input.subarray(0, at); // truncation
    case 2: return cut(input);
    case 3: { // duplication of a slice, or of the whole file
      const from = rnd(input.length + 1);
      const slice = rnd(4) === 0 ? input : input.subarray(from, from + rnd(400));
      return Buffer.concat([input.subarray(0, at), ...Array<Buffer>(1 + rnd(5)).fill(slice), input.subarray(at)]);
    }
    case 4: { // deep nesting, flow or block
      const depth = [10, 100, 255, 257, 1000, 20_000][rnd(6)] ?? 10;
      const nested = rnd(2) === 0 ? `x: ${"[".repeat(depth)}${"]".repeat(depth)}\n` : Array.from({ length: Math.min(depth, 2000) }, (_, i) => `${" ".repeat(i)}k${i}:\n`).join("");
      return insert(input, Buffer.from(nested));
    }
    case 5: { // a huge scalar
      const size = [1000, 70_000, 1_100_000][rnd(3)] ?? 1000;
      return insert(input, Buffer.from(`\nhuge: ${rnd(2) === 0 ? "" : "\""}${"x".repeat(size)}\n`));
    }
    case 6: { // anchors and aliases, up to the billion laughs
      const width = 1 + rnd(12);
      const lines = [`l0: &l0 [${"x, ".repeat(width)}x]`];
      for (let i = 1; i <= 1 + rnd(8); i++) lines.push(`l${i}: &l${i} [${Array<string>(width).fill(`*l${i - 1}`).join(", ")}]`);
      return insert(input, Buffer.from(`\n${lines.join("\n")}\n`));
    }
    case 7: return insert(input, Buffer.from(Array.from({ length: 1 + rnd(16) }, () => rnd(256))));
    case 8: { // many documents
      return Buffer.concat(Array<Buffer>(2 + rnd(30)).fill(Buffer.concat([Buffer.from("---\n"), input])));
    }
    default: return insert(input, Buffer.from(fragments[rnd(fragments.length)] ?? ""));
  }
}

/** Runs the cases of one parser within the time budget; `check` throws an assertion for a bad outcome. */
function fuzz(name: string, seeds: readonly Buffer[], check: (input: Buffer, rnd: (n: number) => number) => void): number {
  const started = performance.now();
  let ran = 0;
  for (let i = 0; i < maxCases && performance.now() - started < budgetMs; i++) {
    if (onlyCase !== undefined && i !== onlyCase) continue;
    const rnd = prng(seed * 1_000_003 + i);
    let input = seeds[rnd(seeds.length)] ?? Buffer.alloc(0);
    for (let n = 1 + rnd(3); n > 0; n--) input = mutate(input, rnd);
    try {
      check(input, rnd);
    } catch (e: unknown) {
      const why = e instanceof Error ? e.message : String(e);
      assert.fail(`${name}: FUZZ_SEED=${seed} FUZZ_CASE=${i} (${input.length} bytes, starting ${JSON.stringify(input.subarray(0, 120).toString("latin1"))}): ${why}`);
    }
    ran++;
  }
  return ran;
}

const vars = { x: "3", host: "web", replicas: "2", domain: "example.com" };

describe("fuzzing the parsers (seeded)", () => {
  it("manifests: objects, or an error that says where and is not internal", () => {
    const seeds = fixtures(["examples/infra", "test/policy/fixtures", "test/providers/kubernetes/fixtures"], isManifestFile);
    assert.ok(seeds.length > 40);
    const ran = fuzz("parseManifestFile", seeds, (input, rnd) => {
      const options: ParseOptions = {
        vars: rnd(3) === 0 ? undefined : vars,
        substitution: { strict: rnd(2) === 0, declared: ["tier"] },
        objectLimit: { max: 1 + rnd(50), message: "too many objects" },
        chunkSize: [1, 100, 65_536][rnd(3)] ?? 1,
      };
      try {
        const out = parseManifestFile("fuzz.yaml", input, options);
        assert.ok(Array.isArray(out));
      } catch (e: unknown) {
        assert.ok(e instanceof GitwardError, `threw ${e instanceof Error ? `${e.name}: ${e.message} ${e.stack}` : String(e)}`);
        assert.notEqual(e.code, "internal", e.message);
        assert.equal(e.subject?.location?.file, "fuzz.yaml", `no file: ${e.message}`);
        if (e.message !== "fuzz.yaml: binary file is not a manifest") assert.ok(e.subject.location.line !== undefined, `no line: ${e.message}`);
      }
    });
    assert.ok(ran > 100, `only ${ran} cases in the time budget`);
  });

  it("gitward.yaml: a configuration, or issues that each say where", () => {
    const seeds = [
      ...fixtures(["examples"], (f) => f.endsWith("gitward.yaml")),
      Buffer.from("version: 1\nenvironments:\n  dev:\n    targets: { c: { provider: kubernetes } }\nstacks:\n  web: { target: c, path: app }\nlimits: { maxObjectsPerFile: 10 }\n"),
    ];
    const ran = fuzz("parseConfig", seeds, (input, rnd) => {
      try {
        parseConfig(rnd(4) === 0 ? input.toString("utf8") : input, "gitward.yaml");
      } catch (e: unknown) {
        assert.ok(e instanceof ConfigError, `threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
        assert.ok(e.issues.length > 0);
        for (const issue of e.issues) {
          assert.equal(issue.location.file, "gitward.yaml");
          assert.ok(issue.location.line !== undefined, `no line: ${issue.keyPath}: ${issue.message}`);
        }
      }
    });
    assert.ok(ran > 100, `only ${ran} cases in the time budget`);
  });

  it("stays within its memory budget", () => {
    const peak = process.resourceUsage().maxRSS / 1024;
    assert.ok(peak < 1536, `peak RSS ${peak.toFixed(0)} MiB`);
  });
});
