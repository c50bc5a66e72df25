import { lstat, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { CommandRunner } from "../../core/command-runner.ts";
import { formatRef, refKey, type ObjRef } from "../../core/objref.ts";
import type {
  ApplyOptions, ChangeSetEntry, CommandOutput, DesiredObject, DiffOptions, DiffSet, HealthReport, Inventory, RemoveOptions,
  StackRef, TargetSession, TransactOptions, TransactResult, WaitOptions,
} from "../provider.ts";
import { describeFailure, runHealth, runHostCommand, type HostCommands } from "./commands.ts";
import { hostDiffEntries } from "./diff.ts";
import { createOwnerResolver } from "./fs/owners.ts";
import { PathGuard, stateDirName } from "./fs/paths.ts";
import { listUnmanaged, scanDirectories, scanFiles, type FileState } from "./fs/scan.ts";
import { stageTree } from "./fs/stage.ts";
import { beginTransaction, recoverTransaction, type Operation } from "./fs/transaction.ts";
import { parseHostObject } from "./kinds.ts";
import { idsOf, type InvalidObject, type ResolvedObject } from "./resolved-object.ts";
import type { RootLocks } from "./root-locks.ts";
import {
  ownerOf, pathsByRef, readHostInventory, readRegistry, writeHostInventory, writeRegistry, type PathRecord, type PathRegistry,
} from "./state.ts";

/** What the planner decided for one sync: the operations, and each object's outcome if they succeed. */
interface HostPlan {
  readonly ops: Operation[];
  readonly entries: ChangeSetEntry[];
  /** The registry after the change. */
  readonly registry: PathRegistry;
  /** The registry during the change: the old one plus every path about to be created. */
  readonly interim: PathRegistry;
}

/**
 * A session on one host root. A sync is one transaction: plan the operations from a scan of
 * the root, stage the new tree and run `check` against it, swap the files in with backups,
 * run `reload` and `health`, and put everything back (and reload again) if either fails.
 * The provider's {@link RootLocks} queue the syncs of one root and keep other processes out,
 * and a journal lets the next run roll back a sync that was killed half-way.
 */
export class HostSession implements TargetSession {
  readonly #root: string;
  readonly #commands: HostCommands;
  readonly #runner: CommandRunner;
  readonly #locks: RootLocks;
  #registryCache: { stamp: string; registry: PathRegistry } | undefined;

  constructor(opts: { root: string; commands: HostCommands; runner: CommandRunner; locks: RootLocks }) {
    this.#root = opts.root;
    this.#commands = opts.commands;
    this.#runner = opts.runner;
    this.#locks = opts.locks;
  }

  async diff(desired: readonly DesiredObject[], opts: DiffOptions): Promise<DiffSet> {
    const stack = opts.inventory?.stack;
    const registry = await this.#registry();
    const resolved = await this.#resolve(desired);
    const invalid = resolved.filter((r): r is InvalidObject => "error" in r);
    if (invalid[0] !== undefined) throw new Error(`${formatRef(invalid[0].desired.ref)}: ${invalid[0].error}`);
    const objects = resolved.filter((r): r is ResolvedObject => !("error" in r));
    const states = await this.#scan(objects);
    const stale = stack === undefined ? [] : staleEntries(opts.inventory, desired);
    const unmanaged = await this.#unmanaged(objects, registry);
    const previous = stack === undefined ? new Map<string, { path: string; record: PathRecord }>() : pathsByRef(registry, stack);
    return { entries: await hostDiffEntries(this.#root, objects, states, unmanaged, stale, previous) };
  }

  async apply(desired: readonly DesiredObject[], opts: ApplyOptions): Promise<readonly ChangeSetEntry[]> {
    return (await this.transact(desired, [], { ...opts, prune: false })).entries;
  }

  async remove(refs: readonly { readonly ref: ObjRef; readonly apiVersion: string }[], opts: RemoveOptions): Promise<readonly ChangeSetEntry[]> {
    const inventory = await this.readInventory(opts.stack);
    const gone = new Set(refs.map((r) => refKey(r.ref)));
    // Removing some objects of a stack is a sync of the stack to what remains; what remains is not rewritten.
    const kept = (inventory?.entries ?? []).filter((e) => !gone.has(refKey(e.ref)));
    const result = await this.#sync(undefined, refs, kept, { ...opts, force: false, prune: true });
    return result.entries;
  }

  async transact(desired: readonly DesiredObject[], stale: Inventory["entries"], opts: TransactOptions): Promise<TransactResult> {
    return this.#sync(desired, opts.prune ? stale : [], [], opts);
  }

  async wait(refs: readonly ObjRef[], opts: WaitOptions): Promise<HealthReport> {
    const health = this.#commands.health;
    if (health === undefined) return { entries: refs.map((ref) => ({ ref, health: "healthy" as const })), timedOut: false };
    const result = await runHealth(this.#runner, { ...health, timeoutMs: Math.min(health.timeoutMs, opts.timeoutMs) }, this.#root, opts.signal);
    const ok = result.exitCode === 0;
    return {
      entries: refs.map((ref) => ({ ref, health: ok ? "healthy" as const : "degraded" as const, ...(ok ? {} : { message: describeFailure(result) }) })),
      timedOut: false,
    };
  }

  readInventory(stack: StackRef): Promise<Inventory | undefined> {
    return readHostInventory(this.#root, stack);
  }

  writeInventory(inventory: Inventory): Promise<void> {
    return writeHostInventory(this.#root, inventory);
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }

  /**
   * The transaction. `desired` undefined leaves the stack's other objects alone (a bare
   * remove); `stale` are the objects to delete; `keep` are refs that stay owned.
   */
  async #sync(
    desired: readonly DesiredObject[] | undefined,
    stale: Inventory["entries"],
    keep: Inventory["entries"],
    opts: TransactOptions,
  ): Promise<TransactResult> {
    const resolved = await this.#resolve(desired ?? []);
    const failed = resolved.filter((r): r is InvalidObject => "error" in r);
    if (failed.length > 0) {
      return {
        entries: resolved.map((r) => "error" in r
          ? { ref: r.desired.ref, apiVersion: r.desired.apiVersion, action: "failed" as const, message: r.error }
          : { ref: r.desired.ref, apiVersion: r.desired.apiVersion, action: "skipped" as const, message: "not applied: other objects of the stack are invalid" }),
        commands: [], error: `${failed.length} invalid object${failed.length === 1 ? "" : "s"}: nothing was changed`,
      };
    }
    const objects = resolved as ResolvedObject[];
    // One sync at a time per root among this provider's sessions (stacks sharing a target), then the file lock across processes.
    const hold = await this.#locks.hold(this.#root, { fileLock: !opts.dryRun, ...(opts.signal === undefined ? {} : { signal: opts.signal }) });
    try {
      if (!opts.dryRun) await recoverTransaction(this.#root);
      const registry = await readRegistry(this.#root);
      const states = await this.#scan(objects);
      const unmanaged = await this.#unmanaged(objects, registry);
      const plan = await planSync({
        root: this.#root, stack: opts.stack, objects, states, registry, stale, keep, unmanaged, partial: desired === undefined,
      });
      if (plan.ops.length === 0) {
        if (!opts.dryRun && JSON.stringify(plan.registry) !== JSON.stringify(registry)) await writeRegistry(this.#root, plan.registry);
        return { entries: plan.entries, commands: [] };
      }
      return await this.#run(plan, registry, opts);
    } finally {
      await hold.release();
    }
  }

  async #run(plan: HostPlan, before: PathRegistry, opts: TransactOptions): Promise<TransactResult> {
    const commands: CommandOutput[] = [];
    const signal = opts.signal === undefined ? {} : { signal: opts.signal };
    const fail = (error: string): TransactResult => ({
      entries: plan.entries.map((e) => e.action === "unchanged" || e.action === "failed" || e.action === "skipped"
        ? e
        : { ...e, action: "failed" as const, message: `not ${verb(e.action)}: ${error.split("\n")[0] ?? error}` }),
      commands, error,
    });
    if (this.#commands.check !== undefined) {
      const staged = await stageTree(this.#root, plan.ops);
      try {
        const check = await runHostCommand(this.#runner, "check", this.#commands.check, { root: this.#root, staged: staged.dir }, signal);
        commands.push(check);
        if (check.exitCode !== 0) return fail(`${describeFailure(check)}\nnothing was changed`);
      } finally {
        await staged.cleanup();
      }
    }
    if (opts.dryRun) return { entries: plan.entries, commands };
    await writeRegistry(this.#root, plan.interim);
    let txn;
    try {
      txn = await beginTransaction(this.#root, plan.ops);
    } catch (e: unknown) {
      await writeRegistry(this.#root, before);
      return fail(`${e instanceof Error ? e.message : String(e)}\nthe files were put back`);
    }
    opts.onProgress?.(plan.entries.length, plan.entries.length);
    const reload = this.#commands.reload;
    const health = this.#commands.health;
    let broken: CommandOutput | undefined;
    if (reload !== undefined) {
      const r = await runHostCommand(this.#runner, "reload", reload, { root: this.#root }, signal);
      commands.push(r);
      if (r.exitCode !== 0) broken = r;
    }
    if (broken === undefined && health !== undefined) {
      const h = await runHealth(this.#runner, health, this.#root, opts.signal);
      commands.push(h);
      if (h.exitCode !== 0) broken = h;
    }
    if (broken !== undefined) {
      await txn.rollback();
      await writeRegistry(this.#root, before);
      let again = "";
      if (reload !== undefined) {
        const r = await runHostCommand(this.#runner, "rollback-reload", reload, { root: this.#root }, signal);
        commands.push(r);
        again = r.exitCode === 0 ? "; reloaded with the previous files" : `; ${describeFailure(r)} — the service may need attention`;
      }
      return fail(`${describeFailure(broken)}\nrolled back: the previous files were put back${again}`);
    }
    await txn.commit();
    await writeRegistry(this.#root, plan.registry);
    return { entries: plan.entries, commands };
  }

  /**
   * The registry for a read-only diff, parsed again only when the file changed: an agent checks
   * hundreds of stacks sharing one root, and each would otherwise parse every path of the root.
   */
  async #registry(): Promise<PathRegistry> {
    const file = join(this.#root, stateDirName, "paths.json");
    const info = await stat(file).catch(() => undefined);
    const stamp = info === undefined ? "missing" : `${info.mtimeMs}:${info.size}:${info.ino}`;
    if (this.#registryCache?.stamp !== stamp) this.#registryCache = { stamp, registry: await readRegistry(this.#root) };
    return this.#registryCache.registry;
  }

  async #resolve(desired: readonly DesiredObject[]): Promise<(ResolvedObject | InvalidObject)[]> {
    const guard = new PathGuard(this.#root);
    const owners = createOwnerResolver();
    return Promise.all(desired.map(async (d) => {
      const parsed = parseHostObject(d.object);
      if (parsed.spec === undefined) return { desired: d, error: parsed.issues.map((i) => (i.field === "" ? i.message : `${i.field}: ${i.message}`)).join("; ") };
      try {
        // Refused here, before anything is scanned or written: a path through a symlinked directory.
        // A symlink as the last component is a type difference the planner refuses to replace.
        guard.parents(parsed.spec.path);
        const uid = parsed.spec.owner === undefined ? undefined : await owners.user(parsed.spec.owner);
        const gid = parsed.spec.group === undefined ? undefined : await owners.group(parsed.spec.group);
        return { desired: d, spec: parsed.spec, ...(uid === undefined ? {} : { uid }), ...(gid === undefined ? {} : { gid }) };
      } catch (e: unknown) {
        return { desired: d, error: e instanceof Error ? e.message : String(e) };
      }
    }));
  }

  async #scan(objects: readonly ResolvedObject[]): Promise<Map<string, FileState>> {
    const files = objects.flatMap((o) => o.spec.kind === "File" ? [{ path: o.spec.path, content: o.spec.content, mode: o.spec.mode, ...idsOf(o) }] : []);
    const dirs = objects.flatMap((o) => o.spec.kind === "Directory" ? [{ path: o.spec.path, mode: o.spec.mode, ...idsOf(o) }] : []);
    const [f, d] = await Promise.all([scanFiles(this.#root, files), scanDirectories(this.#root, dirs)]);
    return new Map([...f, ...d].map((s) => [s.path, s]));
  }

  /** For each purged or reported Directory: the files under it that no object manages. */
  async #unmanaged(objects: readonly ResolvedObject[], registry: PathRegistry): Promise<Map<string, string[]>> {
    const dirs = objects.filter((o) => o.spec.kind === "Directory");
    const out = new Map<string, string[]>();
    if (dirs.length === 0) return out;
    const managed = new Set([...Object.keys(registry.paths), ...objects.map((o) => o.spec.path)]);
    for (const d of dirs) out.set(d.spec.path, await listUnmanaged(this.#root, d.spec.path, managed));
    return out;
  }
}

function verb(action: ChangeSetEntry["action"]): string {
  return action === "created" ? "created" : action === "deleted" ? "deleted" : "changed";
}

/** Inventory entries no longer desired. */
export function staleEntries(inventory: Inventory | undefined, desired: readonly DesiredObject[]): Inventory["entries"] {
  const wanted = new Set(desired.map((d) => refKey(d.ref)));
  return (inventory?.entries ?? []).filter((e) => !wanted.has(refKey(e.ref)));
}

interface PlanInput {
  readonly root: string;
  readonly stack: StackRef;
  readonly objects: readonly ResolvedObject[];
  readonly states: ReadonlyMap<string, FileState>;
  readonly registry: PathRegistry;
  readonly stale: Inventory["entries"];
  readonly keep: Inventory["entries"];
  readonly unmanaged: ReadonlyMap<string, readonly string[]>;
  /** True for a bare remove: the stack's other registry entries stay as they are. */
  readonly partial: boolean;
}

/**
 * Decides the operations of a sync from a scan: write what is missing or differs, create and
 * fix directories, purge unmanaged files where asked, and delete what is stale, but only
 * paths gitward created. Paths another stack manages are refused.
 */
async function planSync(input: PlanInput): Promise<HostPlan> {
  const owner = ownerOf(input.stack);
  const entries: ChangeSetEntry[] = [];
  const mkdirs: Operation[] = [];
  const writes: Operation[] = [];
  const removes: Operation[] = [];
  const rmdirs: Operation[] = [];
  const paths: Record<string, PathRecord> = { ...input.registry.paths };
  const interim: Record<string, PathRecord> = { ...input.registry.paths };
  const desiredPaths = new Set(input.objects.map((o) => o.spec.path));
  for (const o of input.objects) {
    const { ref, apiVersion } = o.desired;
    const key = refKey(ref);
    const previous = input.registry.paths[o.spec.path];
    if (previous !== undefined && previous.owner !== owner) {
      entries.push({ ref, apiVersion, action: "failed", message: `${o.spec.path} is managed by stack ${previous.owner}` });
      continue;
    }
    const state = input.states.get(o.spec.path);
    const record: PathRecord = { kind: o.spec.kind, owner, ref: key, created: previous?.created ?? state?.state === "missing" };
    paths[o.spec.path] = record;
    interim[o.spec.path] = record;
    if (state?.diffs.includes("type") === true) {
      entries.push({ ref, apiVersion, action: "failed", message: `${o.spec.path} exists and is not a ${o.spec.kind === "File" ? "regular file" : "directory"}; gitward does not replace it` });
      continue;
    }
    const missing = state === undefined || state.state === "missing";
    const changed = state?.state === "changed";
    let purged = false;
    if (o.spec.kind === "File") {
      if (missing || changed) writes.push({ op: "write", path: o.spec.path, content: o.spec.content, mode: o.spec.mode, ...idsOf(o) });
    } else {
      if (missing || changed) mkdirs.push({ op: "mkdir", path: o.spec.path, mode: o.spec.mode, ...idsOf(o) });
      if (o.spec.purge) {
        for (const file of input.unmanaged.get(o.spec.path) ?? []) {
          removes.push({ op: "remove", path: file });
          purged = true;
        }
      }
    }
    entries.push({ ref, apiVersion, action: missing ? "created" : changed || purged ? "configured" : "unchanged" });
  }
  // Registry entries of this stack whose object is gone from the desired set and from the inventory are forgotten.
  const current = pathsByRef(input.registry, input.stack);
  const staleKeys = new Set(input.stale.map((e) => refKey(e.ref)));
  for (const e of input.stale) {
    const entry = current.get(refKey(e.ref));
    const base = { ref: e.ref, apiVersion: e.apiVersion };
    if (entry === undefined || desiredPaths.has(entry.path)) {
      entries.push({ ...base, action: "deleted" });
      continue;
    }
    if (!entry.record.created) {
      delete paths[entry.path];
      entries.push({ ...base, action: "skipped", message: `${entry.path} left in place: it existed before gitward managed it` });
      continue;
    }
    const live = await kindOnDisk(join(input.root, entry.path));
    if (live === "missing") {
      delete paths[entry.path];
      entries.push({ ...base, action: "deleted" });
    } else if (entry.record.kind === "Directory") {
      const left = await remainingEntries(join(input.root, entry.path));
      const removed = new Set([...removes, ...writes].filter((op) => op.op === "remove").map((op) => op.path));
      const others = left.filter((name) => !removed.has(`${entry.path}/${name}`) && !staleChild(`${entry.path}/${name}`, current, staleKeys));
      if (others.length > 0) {
        delete paths[entry.path];
        entries.push({ ...base, action: "skipped", message: `${entry.path} left in place: it holds files gitward does not manage (${others.slice(0, 3).join(", ")}${others.length > 3 ? ", …" : ""})` });
      } else {
        rmdirs.push({ op: "rmdir", path: entry.path });
        delete paths[entry.path];
        entries.push({ ...base, action: "deleted" });
      }
    } else {
      removes.push({ op: "remove", path: entry.path });
      delete paths[entry.path];
      entries.push({ ...base, action: "deleted" });
    }
  }
  if (!input.partial) {
    const keepKeys = new Set([...input.objects.map((o) => refKey(o.desired.ref)), ...input.keep.map((e) => refKey(e.ref)), ...staleKeys]);
    for (const [path, record] of Object.entries(input.registry.paths)) {
      if (record.owner === owner && !keepKeys.has(record.ref) && !desiredPaths.has(path)) delete paths[path];
    }
  }
  const depth = (p: string): number => p.split("/").length;
  mkdirs.sort((a, b) => depth(a.path) - depth(b.path));
  rmdirs.sort((a, b) => depth(b.path) - depth(a.path));
  return {
    ops: [...mkdirs, ...writes, ...removes, ...rmdirs],
    entries,
    registry: { version: 1, paths: sortedPaths(paths) },
    interim: { version: 1, paths: sortedPaths(interim) },
  };
}

function staleChild(path: string, current: ReadonlyMap<string, { path: string; record: PathRecord }>, staleKeys: ReadonlySet<string>): boolean {
  for (const [key, entry] of current) if (entry.path === path && staleKeys.has(key) && entry.record.created) return true;
  return false;
}

function sortedPaths(paths: Record<string, PathRecord>): Record<string, PathRecord> {
  return Object.fromEntries(Object.entries(paths).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

async function kindOnDisk(path: string): Promise<"missing" | "present"> {
  try {
    await lstat(path);
    return "present";
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw e;
  }
}

async function remainingEntries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}
