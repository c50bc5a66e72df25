import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { CommandResult, CommandRunner, CommandSpec } from "../../../src/core/command-runner.ts";
import type { KObject } from "../../../src/core/object.ts";
import { hostProvider } from "../../../src/providers/host/provider.ts";
import type { DesiredObject, TransactOptions } from "../../../src/providers/provider.ts";
import { tempRoot } from "./fs/support.ts";

const uid = process.getuid?.() ?? 0;
const gid = process.getgid?.() ?? 0;

/** A getent that knows the user and group `svc` as this process's own ids (so chown is allowed). */
class Getent implements CommandRunner {
  readonly asked: string[] = [];
  run(spec: CommandSpec): Promise<CommandResult> {
    this.asked.push(`${spec.command} ${spec.args.join(" ")}`);
    const known = spec.command === "getent" && spec.args[1] === "svc";
    const line = spec.args[0] === "passwd" ? `svc:x:${uid}:${gid}::/:/bin/false\n` : `svc:x:${gid}:\n`;
    return Promise.resolve({ exitCode: known ? 0 : 2, stdout: Buffer.from(known ? line : ""), stderr: "", timedOut: false, truncated: false });
  }
}

function file(name: string, path: string, owner: string, group: string): DesiredObject {
  const object: KObject = { apiVersion: "host.gitward.dev/v1alpha1", kind: "File", metadata: { name }, spec: { path, content: `${name}\n`, owner, group } };
  return { ref: { group: "host.gitward.dev", kind: "File", name }, apiVersion: "host.gitward.dev/v1alpha1", object };
}

describe("host session: owners", () => {
  let root = "";
  let cleanup = (): void => undefined;
  beforeEach(() => ({ root, cleanup } = tempRoot("gitward-host-owners-")));
  afterEach(() => cleanup());
  const opts: TransactOptions = { stack: { environment: "dev", stack: "web" }, dryRun: false, force: false, prune: true };

  it("resolves names through the provider's runner, once per session", async () => {
    const getent = new Getent();
    const session = await hostProvider({ runner: getent }).open("edge", { provider: "host", root }, {});
    const desired = [file("a", "a.conf", "svc", "svc"), file("b", "b.conf", "svc", String(gid))];
    assert.deepEqual((await session.diff(desired, {})).entries.map((e) => e.action), ["create", "create"]);
    const r = await session.transact!(desired, [], opts);
    assert.deepEqual(r.entries.map((e) => e.action), ["created", "created"]);
    assert.equal(statSync(join(root, "a.conf")).uid, uid);
    assert.deepEqual(getent.asked, ["getent passwd svc", "getent group svc"]);
    const other = await hostProvider({ runner: getent }).open("edge", { provider: "host", root }, {});
    await other.diff(desired, {});
    assert.equal(getent.asked.length, 4, "a new session asks again");
  });

  it("an owner that does not exist fails that object, naming it and the user, and changes nothing", async () => {
    const session = await hostProvider({ runner: new Getent() }).open("edge", { provider: "host", root }, {});
    const desired = [file("ok", "ok.conf", "svc", "svc"), file("bad", "bad.conf", "nobody-here", "svc")];
    const r = await session.transact!(desired, [], opts);
    assert.equal(r.error, "1 invalid object: nothing was changed");
    assert.deepEqual(r.entries.map((e) => [e.ref.name, e.action, e.message]), [
      ["ok", "skipped", "not applied: other objects of the stack are invalid"],
      ["bad", "failed", 'user "nobody-here" does not exist on this machine (getent passwd found no entry)'],
    ]);
    await assert.rejects(session.diff(desired, {}), /^Error: File\/bad: user "nobody-here" does not exist on this machine/);
    const group = [file("g", "g.conf", "svc", "no-group")];
    await assert.rejects(session.diff(group, {}), /File\/g: group "no-group" does not exist on this machine \(getent group found no entry\)/);
  });
});
