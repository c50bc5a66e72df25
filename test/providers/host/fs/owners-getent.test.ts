import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CommandStartError, type CommandResult, type CommandRunner, type CommandSpec } from "../../../../src/core/command-runner.ts";
import { GitwardError } from "../../../../src/core/errors.ts";
import { createOwnerResolver, resolveGroup, resolveUser } from "../../../../src/providers/host/fs/owners.ts";

/** A getent that answers from a table (exit 2 for anything else) and records what it was asked. */
class FakeGetent implements CommandRunner {
  readonly calls: CommandSpec[] = [];
  readonly entries: Map<string, string>;
  answer: ((spec: CommandSpec) => Promise<CommandResult>) | undefined;

  constructor(entries: Record<string, string> = {}) {
    this.entries = new Map(Object.entries(entries));
  }

  async run(spec: CommandSpec): Promise<CommandResult> {
    this.calls.push(spec);
    await new Promise((r) => setImmediate(r));
    if (this.answer !== undefined) return this.answer(spec);
    const line = this.entries.get(spec.args.join(" "));
    return result(line === undefined ? 2 : 0, line === undefined ? "" : `${line}\n`);
  }
}

function result(exitCode: number, stdout: string, more: Partial<CommandResult> = {}): CommandResult {
  return { exitCode, stdout: Buffer.from(stdout), stderr: "", timedOut: false, truncated: false, ...more };
}

const missingName = `gitward-no-such-user-${process.pid}`;

describe("owners through getent", () => {
  it("resolves root through the real getent", async () => {
    assert.equal(await resolveUser("root"), 0);
    assert.equal(await resolveGroup("root"), 0);
  });

  it("names a user or group the real getent does not know", async () => {
    await assert.rejects(resolveUser(missingName), (e: unknown) => {
      assert.ok(e instanceof GitwardError);
      assert.equal(e.code, "config");
      assert.equal(e.message, `user "${missingName}" does not exist on this machine (getent passwd found no entry)`);
      assert.equal(e.hint, "create the user, or give a numeric uid");
      return true;
    });
    await assert.rejects(resolveGroup(missingName), new RegExp(`^GitwardError: group "${missingName}" does not exist on this machine \\(getent group found no entry\\)`));
  });

  it("passes numeric ids through without running getent", async () => {
    const getent = new FakeGetent();
    const owners = createOwnerResolver({ runner: getent });
    assert.equal(await owners.user(65534), 65534);
    assert.equal(await owners.user("1000"), 1000);
    assert.equal(await owners.group("0"), 0);
    assert.deepEqual(getent.calls, []);
  });

  it("asks getent once per name for the resolver's life, with the name as its own argument and a timeout", async () => {
    const getent = new FakeGetent({ "passwd www-data": "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin", "group adm": "adm:x:4:syslog" });
    const owners = createOwnerResolver({ runner: getent, timeoutMs: 1234 });
    assert.deepEqual(await Promise.all([owners.user("www-data"), owners.user("www-data"), owners.group("adm")]), [33, 33, 4]);
    assert.equal(await owners.user("www-data"), 33);
    assert.deepEqual(getent.calls.map((c) => [c.command, ...c.args]), [["getent", "passwd", "www-data"], ["getent", "group", "adm"]]);
    assert.equal(getent.calls[0]?.timeoutMs, 1234);
  });

  it("asks again for a name it did not find: the user may have been created since", async () => {
    const getent = new FakeGetent();
    const owners = createOwnerResolver({ runner: getent });
    await assert.rejects(owners.user("svc"), /user "svc" does not exist/);
    getent.entries.set("passwd svc", "svc:x:990:990::/:/bin/false");
    assert.equal(await owners.user("svc"), 990);
    assert.equal(getent.calls.length, 2);
  });

  it("refuses names getent would read as an option, and malformed names, without running it", async () => {
    const getent = new FakeGetent();
    const owners = createOwnerResolver({ runner: getent });
    await assert.rejects(owners.user("-x"), /user name "-x" is not valid/);
    await assert.rejects(owners.group("a:b"), /group name "a:b" is not valid/);
    await assert.rejects(owners.user(-1), /user id -1 is out of range/);
    assert.deepEqual(getent.calls, []);
  });

  it("reports a getent that fails, times out or answers nonsense as a tool error naming the command", async () => {
    const table: { answer: CommandResult; message: RegExp }[] = [
      { answer: result(1, "", { stderr: "Unknown database: passwd\n" }), message: /^getent passwd svc exited 1: Unknown database: passwd$/ },
      { answer: result(-1, "", { timedOut: true }), message: /^getent passwd svc did not answer within 10 s$/ },
      { answer: result(0, "svc:x:notanumber:0::/:/bin/false\n"), message: /^getent passwd svc answered an entry without a valid id: "svc:x:notanumber/ },
      { answer: result(0, ""), message: /^getent passwd svc answered an entry without a valid id: ""$/ },
    ];
    for (const t of table) {
      const getent = new FakeGetent();
      getent.answer = () => Promise.resolve(t.answer);
      await assert.rejects(createOwnerResolver({ runner: getent }).user("svc"), (e: unknown) => {
        assert.ok(e instanceof GitwardError);
        assert.equal(e.code, "tool");
        assert.match(e.message, t.message);
        return true;
      });
    }
  });

  it("falls back to /etc/passwd and /etc/group where getent is not installed, and stops trying it", async () => {
    const getent = new FakeGetent();
    const enoent = Object.assign(new Error("spawn getent ENOENT"), { code: "ENOENT" });
    getent.answer = (spec) => Promise.reject(new CommandStartError(spec.command, enoent));
    const owners = createOwnerResolver({ runner: getent });
    assert.equal(await owners.user("root"), 0);
    assert.equal(await owners.group("root"), 0);
    await assert.rejects(owners.user(missingName), new RegExp(`user "${missingName}" does not exist on this machine \\(not in /etc/passwd\\)`));
    assert.equal(getent.calls.length, 1);
  });
});
