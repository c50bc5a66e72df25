import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { GitwardError } from "../../../../src/core/errors.ts";
import { createOwnerResolver, parseIdDatabase, resolveGroup, resolveUser } from "../../../../src/providers/host/fs/owners.ts";
import { tempRoot } from "./support.ts";

const passwdText = [
  "root:x:0:0:root:/root:/bin/bash",
  "# a comment",
  "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin",
  "",
  "broken-line",
  "nginx:x:101:101::/nonexistent:/usr/sbin/nologin",
  "nginx:x:999:999:duplicate:/:/bin/false",
].join("\n");
const groupText = "root:x:0:\nwww-data:x:33:\nadm:x:4:syslog,alice\n";

describe("owners", () => {
  let dir = "";
  let cleanup = (): void => undefined;
  let files = { passwd: "", group: "" };
  before(() => {
    ({ root: dir, cleanup } = tempRoot());
    files = { passwd: join(dir, "passwd"), group: join(dir, "group") };
    writeFileSync(files.passwd, passwdText);
    writeFileSync(files.group, groupText);
  });
  after(() => cleanup());

  it("parses passwd and group lines, the first entry of a name winning", () => {
    assert.deepEqual([...parseIdDatabase(passwdText)], [["root", 0], ["www-data", 33], ["nginx", 101]]);
  });

  it("passes numeric ids and numeric strings through without reading", async () => {
    const none = { passwd: join(dir, "missing"), group: join(dir, "missing") };
    assert.equal(await resolveUser(65534, none), 65534);
    assert.equal(await resolveUser("1000", none), 1000);
    assert.equal(await resolveGroup("0", none), 0);
  });

  it("looks names up", async () => {
    assert.equal(await resolveUser("www-data", files), 33);
    assert.equal(await resolveUser("nginx", files), 101);
    assert.equal(await resolveGroup("adm", files), 4);
  });

  it("names an unknown user or group", async () => {
    await assert.rejects(resolveUser("nobody-here", files), (e: unknown) => {
      assert.ok(e instanceof GitwardError);
      assert.equal(e.code, "config");
      assert.equal(e.message, `user "nobody-here" does not exist on this machine (not in ${files.passwd})`);
      return true;
    });
    await assert.rejects(resolveGroup("wheel", files), /group "wheel" does not exist on this machine/);
  });

  it("refuses ids out of range and malformed names", async () => {
    await assert.rejects(resolveUser(-1, files), /user id -1 is out of range/);
    await assert.rejects(resolveUser(4294967295, files), /out of range/);
    await assert.rejects(resolveUser("a:b", files), /user name "a:b" is not valid/);
    await assert.rejects(resolveGroup("", files), /group name "" is not valid/);
  });

  it("resolves against the real /etc/passwd by default", async () => {
    assert.equal(await resolveUser("root"), 0);
    assert.equal(await resolveGroup("root"), 0);
  });

  it("reads each database once per resolver", async () => {
    const copy = join(dir, "passwd-copy");
    writeFileSync(copy, passwdText);
    const resolver = createOwnerResolver({ passwd: copy, group: files.group });
    assert.equal(await resolver.user("www-data"), 33);
    rmSync(copy);
    assert.equal(await resolver.user("nginx"), 101);
    await assert.rejects(createOwnerResolver({ passwd: copy }).user("nginx"), /passwd-copy: cannot read: ENOENT/);
  });
});
