import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GitwardError } from "../../../src/core/errors.ts";
import { refKey, type ObjRef } from "../../../src/core/objref.ts";
import type { FileState } from "../../../src/providers/host/fs/scan.ts";
import type { Operation } from "../../../src/providers/host/fs/transaction.ts";
import type { StaleOnDisk } from "../../../src/providers/host/orphans.ts";
import { orphanPathsToInspect, planSync, type PlanInput } from "../../../src/providers/host/plan-sync.ts";
import type { ResolvedObject } from "../../../src/providers/host/resolved-object.ts";
import type { PathRecord } from "../../../src/providers/host/state.ts";

// planSync is pure: every case is data in, data out, without a file system.

const stack = { environment: "dev", stack: "web" };
const apiVersion = "host.gitward.dev/v1alpha1";
const refOf = (kind: "File" | "Directory", name: string): ObjRef => ({ group: "host.gitward.dev", kind, name });

function file(name: string, path: string, content: string, more: { mode?: number; uid?: number; gid?: number } = {}): ResolvedObject {
  const ref = refOf("File", name);
  return {
    desired: { ref, apiVersion, object: { apiVersion, kind: "File", metadata: { name } } },
    spec: { kind: "File", name, path, content: Buffer.from(content), mode: more.mode ?? 0o644, sensitive: false },
    ...(more.uid === undefined ? {} : { uid: more.uid }), ...(more.gid === undefined ? {} : { gid: more.gid }),
  };
}

function directory(name: string, path: string, purge: boolean, mode = 0o755): ResolvedObject {
  const ref = refOf("Directory", name);
  return { desired: { ref, apiVersion, object: { apiVersion, kind: "Directory", metadata: { name } } }, spec: { kind: "Directory", name, path, mode, purge } };
}

const ok = (path: string): FileState => ({ path, state: "ok", diffs: [] });
const missing = (path: string): FileState => ({ path, state: "missing", diffs: [] });
const changed = (path: string, ...diffs: FileState["diffs"]): FileState => ({ path, state: "changed", diffs, live: { mode: 0o600, uid: 0, gid: 0 } });
const record = (kind: "File" | "Directory", name: string, created: boolean, owner = "dev/web"): PathRecord => ({ kind, owner, ref: refKey(refOf(kind, name)), created });
const inventoryEntry = (kind: "File" | "Directory", name: string): { ref: ObjRef; apiVersion: string } => ({ ref: refOf(kind, name), apiVersion });

/** A plan input: nothing desired, nothing registered, nothing stale, prune on, unless a case says otherwise. */
function input(over: Partial<Omit<PlanInput, "states" | "registry" | "unmanaged" | "staleOnDisk">> & {
  states?: FileState[];
  paths?: Record<string, PathRecord>;
  unmanaged?: Record<string, string[]>;
  staleOnDisk?: Record<string, StaleOnDisk>;
} = {}): PlanInput {
  return {
    stack: over.stack ?? stack,
    objects: over.objects ?? [],
    states: new Map((over.states ?? []).map((s) => [s.path, s])),
    registry: { version: 1, paths: over.paths ?? {} },
    stale: over.stale ?? [],
    unmanaged: new Map(Object.entries(over.unmanaged ?? {})),
    partial: over.partial ?? false,
    prune: over.prune ?? true,
    staleOnDisk: new Map(Object.entries(over.staleOnDisk ?? {})),
  };
}

/** An operation in a form that reads well in a table: `write a.conf 0644 "a\n"`. */
function show(op: Operation): string {
  switch (op.op) {
    case "write":
      return `write ${op.path} ${op.mode.toString(8)}${op.uid === undefined ? "" : ` uid ${op.uid}`}${op.gid === undefined ? "" : ` gid ${op.gid}`} ${JSON.stringify(op.content.toString())}`;
    case "mkdir":
      return `mkdir ${op.path} ${op.mode.toString(8)}`;
    default:
      return `${op.op} ${op.path}`;
  }
}

interface Case {
  readonly name: string;
  readonly input: PlanInput;
  readonly ops: readonly string[];
  /** `name action` or `name action: message`. */
  readonly entries: readonly string[];
  /** The registry after the change: path → `created` or `adopted` (owner dev/web unless another is named). */
  readonly registry: Readonly<Record<string, string>>;
}

const cases: Case[] = [
  {
    name: "create: a missing file is written and recorded as created",
    input: input({ objects: [file("a", "conf.d/a.conf", "a\n")], states: [missing("conf.d/a.conf")] }),
    ops: ['write conf.d/a.conf 644 "a\\n"'],
    entries: ["a created"],
    registry: { "conf.d/a.conf": "created" },
  },
  {
    name: "create: directories first (shallow to deep), then files",
    input: input({
      objects: [file("f", "x/y/f.conf", "f\n"), directory("y", "x/y", false), directory("x", "x", false, 0o750)],
      states: [missing("x/y/f.conf"), missing("x/y"), missing("x")],
    }),
    ops: ["mkdir x 750", "mkdir x/y 755", 'write x/y/f.conf 644 "f\\n"'],
    entries: ["f created", "y created", "x created"],
    registry: { x: "created", "x/y": "created", "x/y/f.conf": "created" },
  },
  {
    name: "update content: a file that differs is written again; it stays adopted",
    input: input({ objects: [file("a", "a.conf", "new\n")], states: [changed("a.conf", "content")], paths: { "a.conf": record("File", "a", false) } }),
    ops: ['write a.conf 644 "new\\n"'],
    entries: ["a configured"],
    registry: { "a.conf": "adopted" },
  },
  {
    name: "update content: a file that existed before gitward is adopted, not created",
    input: input({ objects: [file("a", "a.conf", "new\n")], states: [changed("a.conf", "content")] }),
    ops: ['write a.conf 644 "new\\n"'],
    entries: ["a configured"],
    registry: { "a.conf": "adopted" },
  },
  {
    name: "update mode and owner: the file is written with the resolved ids",
    input: input({
      objects: [file("a", "a.conf", "a\n", { mode: 0o640, uid: 33, gid: 4 })],
      states: [changed("a.conf", "mode", "owner")],
      paths: { "a.conf": record("File", "a", true) },
    }),
    ops: ['write a.conf 640 uid 33 gid 4 "a\\n"'],
    entries: ["a configured"],
    registry: { "a.conf": "created" },
  },
  {
    name: "update mode: a directory is fixed with mkdir",
    input: input({ objects: [directory("d", "d", false, 0o700)], states: [changed("d", "mode")], paths: { d: record("Directory", "d", true) } }),
    ops: ["mkdir d 700"],
    entries: ["d configured"],
    registry: { d: "created" },
  },
  {
    name: "no-op: nothing differs, nothing to do, the registry stays",
    input: input({
      objects: [file("a", "a.conf", "a\n"), directory("d", "d", true)],
      states: [ok("a.conf"), ok("d")],
      paths: { "a.conf": record("File", "a", true), d: record("Directory", "d", false) },
      unmanaged: { d: [] },
    }),
    ops: [],
    entries: ["a unchanged", "d unchanged"],
    registry: { "a.conf": "created", d: "adopted" },
  },
  {
    name: "prune: a stale file gitward created is removed and forgotten",
    input: input({
      objects: [file("a", "a.conf", "a\n")],
      states: [ok("a.conf")],
      paths: { "a.conf": record("File", "a", true), "old.conf": record("File", "old", true) },
      stale: [inventoryEntry("File", "old")],
      staleOnDisk: { "old.conf": { present: true, children: [] } },
    }),
    ops: ["remove old.conf"],
    entries: ["a unchanged", "old deleted"],
    registry: { "a.conf": "created" },
  },
  {
    name: "prune: a stale file already gone needs no operation",
    input: input({
      paths: { "old.conf": record("File", "old", true) },
      stale: [inventoryEntry("File", "old")],
      staleOnDisk: { "old.conf": { present: false } },
    }),
    ops: [],
    entries: ["old deleted"],
    registry: {},
  },
  {
    name: "prune: a file gitward did not create is left alone, and forgotten",
    input: input({
      paths: { "adopted.conf": record("File", "adopted", false) },
      stale: [inventoryEntry("File", "adopted")],
    }),
    ops: [],
    entries: ["adopted skipped: file adopted.conf left in place: it existed before gitward managed it"],
    registry: {},
  },
  {
    name: "prune: a stale object whose path a desired object took over is only dropped from the inventory",
    input: input({
      objects: [file("new", "a.conf", "a\n")],
      states: [ok("a.conf")],
      paths: { "a.conf": record("File", "old", true) },
      stale: [inventoryEntry("File", "old")],
    }),
    ops: [],
    entries: ["new unchanged", "old deleted"],
    registry: { "a.conf": "created" },
  },
  {
    name: "prune: a created directory is removed after the stale files in it, deepest first",
    input: input({
      paths: { d: record("Directory", "d", true), "d/e": record("Directory", "e", true), "d/e/f.conf": record("File", "f", true) },
      stale: [inventoryEntry("Directory", "d"), inventoryEntry("Directory", "e"), inventoryEntry("File", "f")],
      staleOnDisk: { d: { present: true, children: ["e"] }, "d/e": { present: true, children: ["f.conf"] }, "d/e/f.conf": { present: true, children: [] } },
    }),
    ops: ["remove d/e/f.conf", "rmdir d/e", "rmdir d"],
    entries: ["d deleted", "e deleted", "f deleted"],
    registry: {},
  },
  {
    name: "prune: a created directory that holds unmanaged files is left in place",
    input: input({
      paths: { d: record("Directory", "d", true) },
      stale: [inventoryEntry("Directory", "d")],
      staleOnDisk: { d: { present: true, children: ["a", "b", "c", "d"] } },
    }),
    ops: [],
    entries: ["d skipped: directory d left in place: it holds files gitward does not manage (a, b, c, …)"],
    registry: {},
  },
  {
    name: "directory purge: unmanaged files are removed and the directory is configured",
    input: input({
      objects: [directory("sites", "sites", true), file("a", "sites/a.conf", "a\n")],
      states: [ok("sites"), ok("sites/a.conf")],
      paths: { sites: record("Directory", "sites", false), "sites/a.conf": record("File", "a", true) },
      unmanaged: { sites: ["sites/stray.conf", "sites/sub/old.conf"] },
    }),
    ops: ["remove sites/stray.conf", "remove sites/sub/old.conf"],
    entries: ["sites configured", "a unchanged"],
    registry: { sites: "adopted", "sites/a.conf": "created" },
  },
  {
    name: "directory without purge: unmanaged files stay",
    input: input({ objects: [directory("sites", "sites", false)], states: [ok("sites")], unmanaged: { sites: ["sites/stray.conf"] } }),
    ops: [],
    entries: ["sites unchanged"],
    registry: { sites: "adopted" },
  },
  {
    name: "a path another stack manages is refused and keeps its owner",
    input: input({ objects: [file("a", "shared.conf", "a\n")], states: [changed("shared.conf", "content")], paths: { "shared.conf": record("File", "a", true, "dev/api") } }),
    ops: [],
    entries: ["a failed: shared.conf is managed by stack dev/api"],
    registry: { "shared.conf": "created by dev/api" },
  },
  {
    name: "a path of another type is refused, not replaced",
    input: input({ objects: [file("a", "a.conf", "a\n")], states: [{ path: "a.conf", state: "changed", diffs: ["type"], live: { mode: 0o777, uid: 0, gid: 0 } }] }),
    ops: [],
    entries: ["a failed: a.conf exists and is not a regular file; gitward does not replace it"],
    registry: { "a.conf": "adopted" },
  },
  {
    name: "a full sync prunes a path it created whose object the inventory lost, reported under the object's ref",
    input: input({
      objects: [file("a", "a.conf", "a\n")],
      states: [ok("a.conf")],
      paths: { "a.conf": record("File", "a", true), "lost.conf": record("File", "lost", true), "other.conf": record("File", "o", true, "dev/api") },
      staleOnDisk: { "lost.conf": { present: true, children: [] } },
    }),
    ops: ["remove lost.conf"],
    entries: ["a unchanged", "lost deleted"],
    registry: { "a.conf": "created", "other.conf": "created by dev/api" },
  },
  {
    name: "rename: the new path is written and the previous one, which gitward created, removed",
    input: input({
      objects: [file("site", "conf.d/new.conf", "s\n")],
      states: [missing("conf.d/new.conf")],
      paths: { "conf.d/old.conf": record("File", "site", true) },
      staleOnDisk: { "conf.d/old.conf": { present: true, children: [] } },
    }),
    ops: ['write conf.d/new.conf 644 "s\\n"', "remove conf.d/old.conf"],
    entries: ["site created"],
    registry: { "conf.d/new.conf": "created" },
  },
  {
    name: "rename: an object already at its new path is configured by removing the previous one",
    input: input({
      objects: [file("site", "new.conf", "s\n")],
      states: [ok("new.conf")],
      paths: { "new.conf": record("File", "site", true), "old.conf": record("File", "site", true) },
      staleOnDisk: { "old.conf": { present: true, children: [] } },
    }),
    ops: ["remove old.conf"],
    entries: ["site configured"],
    registry: { "new.conf": "created" },
  },
  {
    name: "rename without prune: the previous path stays, still owned, so a later prune removes it",
    input: input({
      prune: false,
      objects: [file("site", "new.conf", "s\n")],
      states: [missing("new.conf")],
      paths: { "old.conf": record("File", "site", true) },
      staleOnDisk: { "old.conf": { present: true, children: [] } },
    }),
    ops: ['write new.conf 644 "s\\n"'],
    entries: ["site created"],
    registry: { "new.conf": "created", "old.conf": "created" },
  },
  {
    name: "without prune, an orphan path already gone is forgotten, and stale objects have no outcome",
    input: input({
      prune: false,
      paths: { "old.conf": record("File", "site", true), "gone.conf": record("File", "gone", true) },
      stale: [inventoryEntry("File", "site"), inventoryEntry("File", "gone")],
      staleOnDisk: { "old.conf": { present: true, children: [] }, "gone.conf": { present: false } },
    }),
    ops: [],
    entries: [],
    registry: { "old.conf": "created" },
  },
  {
    name: "rename: a previous path gitward did not create is left in place and forgotten",
    input: input({
      objects: [file("site", "new.conf", "s\n")],
      states: [missing("new.conf")],
      paths: { "old.conf": record("File", "site", false) },
    }),
    ops: ['write new.conf 644 "s\\n"'],
    entries: ["site created"],
    registry: { "new.conf": "created" },
  },
  {
    name: "rename: an object refused at its new path keeps its previous path",
    input: input({
      objects: [file("site", "shared.conf", "s\n")],
      states: [ok("shared.conf")],
      paths: { "old.conf": record("File", "site", true), "shared.conf": record("File", "x", true, "dev/api") },
      staleOnDisk: { "old.conf": { present: true, children: [] } },
    }),
    ops: [],
    entries: ["site failed: shared.conf is managed by stack dev/api"],
    registry: { "old.conf": "created", "shared.conf": "created by dev/api" },
  },
  {
    name: "a stale Directory with two paths: each is decided, and the message names the path left and its kind",
    input: input({
      paths: { d: record("Directory", "d", true), linkdir: record("Directory", "d", true) },
      stale: [inventoryEntry("Directory", "d")],
      staleOnDisk: { d: { present: true, children: [] }, linkdir: { present: true, children: ["x.conf"] } },
    }),
    ops: ["rmdir d"],
    entries: ["d skipped: directory linkdir left in place: it holds files gitward does not manage (x.conf)"],
    registry: {},
  },
  {
    name: "a renamed Directory whose previous path still holds a desired file is left in place, saying so",
    input: input({
      objects: [directory("d", "e", false), file("f", "d/f.conf", "f\n")],
      states: [missing("e"), ok("d/f.conf")],
      paths: { d: record("Directory", "d", true), "d/f.conf": record("File", "f", true) },
      staleOnDisk: { d: { present: true, children: ["f.conf"] } },
    }),
    ops: ["mkdir e 755"],
    entries: ["d created", "f unchanged"],
    registry: { "d/f.conf": "created", e: "created" },
  },
  {
    name: "a bare remove (partial) keeps the stack's other registry entries",
    input: input({
      partial: true,
      paths: { "a.conf": record("File", "a", true), "gone.conf": record("File", "gone", true) },
      stale: [inventoryEntry("File", "gone")],
      staleOnDisk: { "gone.conf": { present: true, children: [] } },
    }),
    ops: ["remove gone.conf"],
    entries: ["gone deleted"],
    registry: { "a.conf": "created" },
  },
  {
    name: "the registry during the change holds both the paths about to be created and the stale ones still there",
    input: input({
      objects: [file("n", "n.conf", "n\n")],
      states: [missing("n.conf")],
      paths: { "old.conf": record("File", "old", true) },
      stale: [inventoryEntry("File", "old")],
      staleOnDisk: { "old.conf": { present: true, children: [] } },
    }),
    ops: ['write n.conf 644 "n\\n"', "remove old.conf"],
    entries: ["n created", "old deleted"],
    registry: { "n.conf": "created" },
  },
];

function describeRegistry(paths: Readonly<Record<string, PathRecord>>): Record<string, string> {
  return Object.fromEntries(Object.entries(paths).map(([p, r]) => [p, `${r.created ? "created" : "adopted"}${r.owner === "dev/web" ? "" : ` by ${r.owner}`}`]));
}

describe("planSync", () => {
  for (const c of cases) {
    it(c.name, () => {
      const plan = planSync(c.input);
      assert.deepEqual(plan.ops.map(show), c.ops);
      assert.deepEqual(plan.entries.map((e) => `${e.ref.name} ${e.action}${e.message === undefined ? "" : `: ${e.message}`}`), c.entries);
      assert.deepEqual(describeRegistry(plan.registry.paths), c.registry);
      assert.deepEqual(Object.keys(plan.registry.paths), Object.keys(plan.registry.paths).toSorted(), "registry sorted by path");
      // During the change the registry holds every path before and after it, so a crash forgets nothing.
      const both = new Set([...Object.keys(c.input.registry.paths), ...Object.keys(plan.registry.paths)]);
      assert.deepEqual(Object.keys(plan.interim.paths), [...both].toSorted());
    });
  }

  it("refuses to guess when a stale path it must delete was not inspected", () => {
    const bad = input({ paths: { "old.conf": record("File", "old", true) }, stale: [inventoryEntry("File", "old")] });
    assert.throws(() => planSync(bad), (e: unknown) => e instanceof GitwardError && e.code === "internal" && /old\.conf/.test(e.message));
  });
});

describe("orphanPathsToInspect", () => {
  const table: { name: string; input: PlanInput; paths: string[] }[] = [
    { name: "nothing orphaned", input: input({ objects: [file("a", "a.conf", "a\n")], paths: { "a.conf": record("File", "a", true) } }), paths: [] },
    {
      name: "with prune, only orphan paths gitward created that no desired object takes over",
      input: input({
        objects: [file("new", "taken.conf", "x\n")],
        paths: {
          "made.conf": record("File", "made", true), "adopted.conf": record("File", "adopted", false),
          "taken.conf": record("File", "taken", true), d: record("Directory", "d", true),
        },
        stale: [inventoryEntry("File", "made"), inventoryEntry("File", "adopted"), inventoryEntry("File", "taken"), inventoryEntry("Directory", "d"), inventoryEntry("File", "unknown")],
      }),
      paths: ["Directory d", "File made.conf"],
    },
    {
      name: "without prune, every orphan path (to forget those already gone)",
      input: input({ prune: false, paths: { "adopted.conf": record("File", "adopted", false), "old.conf": record("File", "site", true) } }),
      paths: ["File adopted.conf", "File old.conf"],
    },
    {
      name: "a previous path of a desired object",
      input: input({ objects: [file("site", "new.conf", "x\n")], paths: { "old.conf": record("File", "site", true) } }),
      paths: ["File old.conf"],
    },
    {
      name: "a bare remove: only the removed objects' paths",
      input: input({ partial: true, paths: { "a.conf": record("File", "a", true), "b.conf": record("File", "b", true) }, stale: [inventoryEntry("File", "b")] }),
      paths: ["File b.conf"],
    },
    {
      name: "not another stack's paths",
      input: input({ paths: { "a.conf": record("File", "a", true, "dev/api") }, stale: [inventoryEntry("File", "a")] }),
      paths: [],
    },
  ];
  for (const c of table) {
    it(c.name, () => {
      assert.deepEqual(orphanPathsToInspect(c.input).map((p) => `${p.kind} ${p.path}`), c.paths);
    });
  }
});
