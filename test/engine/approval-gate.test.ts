import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { ApprovalGate, type ApprovalRule } from "../../src/engine/approval-gate.ts";
import { openForge } from "../../src/forge/open-forge.ts";
import { startFakeForge, type FakeForge, type FakeForgeKind } from "../support/fake-forge/index.ts";
import { FakeClock } from "../support/fake-clock.ts";

const sha = (c: string): string => c.repeat(40);
const sre: ApprovalRule = { required: 1, groups: { sre: ["alice", "bob"] } };
const two: ApprovalRule = { required: 2, groups: { sre: ["alice", "bob", "dave"] } };

for (const kind of ["github", "gitlab", "gitea"] as const satisfies readonly FakeForgeKind[]) {
  describe(`approval gate on ${kind}`, () => {
    let fake: FakeForge;
    let gate: ApprovalGate;
    let clock: FakeClock;
    const ref = (n: number): string => (kind === "gitlab" ? `!${n}` : `#${n}`);
    const ask = (commits: string[], rules: ApprovalRule[] = [sre]) => gate.check({ environment: "prod", branch: "main", commits, rules });

    beforeEach(async () => {
      fake = await startFakeForge(kind);
      fake.state.addUser("gitward", "agent-token");
      clock = new FakeClock();
      const repository = kind === "gitlab" ? String(fake.state.projectId) : "acme/infra";
      gate = new ApprovalGate({ forge: await openForge({ kind, apiUrl: fake.apiUrl, repository, token: "agent-token", retries: 0 }), clock, ttlMs: 60_000 });
    });

    afterEach(async () => {
      assert.deepEqual(fake.state.nonConforming(), []);
      await fake.close();
    });

    /** A pull request by `author` merged as commit `merge`. */
    const merged = (number: number, author: string, merge: string): void => {
      fake.state.openPull({ number, author, headSha: sha(String(number % 10)), headBranch: `change-${number}` });
      fake.state.merge(number, merge, "carol");
    };

    it("holds a commit that reached the branch without a pull request", async () => {
      const v = await ask([sha("d")]);
      assert.equal(v.allowed, false);
      assert.deepEqual(v.reasons, [`prod: commit ${sha("d").slice(0, 12)} reached main without a merged pull request`]);
    });

    it("holds a merged pull request without enough approvals, and lets it through once approved", async () => {
      merged(42, "carol", sha("e"));
      const held = await ask([sha("e")]);
      assert.equal(held.allowed, false);
      assert.deepEqual(held.reasons, [`prod: waiting for 1 more approval from sre on ${ref(42)}`]);
      fake.state.review(42, "alice");
      gate.forget(42);
      const ok = await ask([sha("e")]);
      assert.equal(ok.allowed, true, ok.reasons.join("; "));
      assert.deepEqual(ok.pulls.map((p) => [p.number, p.approvers]), [[42, ["alice"]]]);
    });

    it("does not count the author, nor approvers outside the groups", async () => {
      merged(5, "alice", sha("f"));
      fake.state.review(5, "alice");
      fake.state.review(5, "mallory");
      const v = await ask([sha("f")]);
      assert.equal(v.allowed, false);
      assert.deepEqual(v.pulls[0]?.approvers, []);
    });

    it("needs every commit since the last sync to be approved, and every rule to hold", async () => {
      merged(1, "carol", sha("1"));
      merged(2, "carol", sha("2"));
      fake.state.review(1, "alice");
      fake.state.review(1, "bob");
      fake.state.review(2, "bob");
      const v = await ask([sha("2"), sha("1")], [sre, two]);
      assert.equal(v.allowed, false);
      assert.deepEqual(v.reasons, [`prod: waiting for 1 more approval from sre on ${ref(2)}`]);
      assert.deepEqual(v.pulls.map((p) => [p.number, p.approvers]), [[2, ["bob"]], [1, ["alice", "bob"]]]);
    });

    it("caches the forge's answers until they expire or a review arrives", async () => {
      merged(9, "carol", sha("9"));
      await ask([sha("9")]);
      const asked = fake.state.requests.length;
      await ask([sha("9")]);
      assert.equal(fake.state.requests.length, asked, "the second check asks the forge nothing");
      fake.state.review(9, "bob");
      await clock.advance(61_000);
      assert.equal((await ask([sha("9")])).allowed, true);
      assert.ok(fake.state.requests.length > asked);
    });

    it("fails closed when the forge cannot be asked, saying why", async () => {
      merged(3, "carol", sha("3"));
      fake.state.faults.down = true;
      const v = await ask([sha("3")]);
      assert.equal(v.allowed, false);
      assert.equal(v.unreachable, true);
      assert.match(v.reasons[0] ?? "", new RegExp(`^prod: cannot check approvals on ${kind}: `));
      assert.doesNotMatch(v.reasons.join(" "), /agent-token/);
    });

    it("resolves a team through the forge", async () => {
      fake.state.teams.set(kind === "gitlab" ? "acme/sre" : "acme/sre", ["zoe"]);
      merged(8, "carol", sha("8"));
      fake.state.review(8, "zoe");
      const v = await ask([sha("8")], [{ required: 1, groups: { sre: { team: "acme/sre" } } }]);
      assert.equal(v.allowed, true, v.reasons.join("; "));
    });
  });
}

describe("approval gate limits", () => {
  it("holds more commits than it checks, and needs no forge call for an empty rule set", async () => {
    const fake = await startFakeForge("github");
    try {
      fake.state.addUser("gitward", "t");
      const gate = new ApprovalGate({ forge: await openForge({ kind: "github", apiUrl: fake.apiUrl, repository: "acme/infra", token: "t", retries: 0 }), clock: new FakeClock(), maxCommits: 2 });
      const v = await gate.check({ environment: "prod", branch: "main", commits: [sha("1"), sha("2"), sha("3")], rules: [sre] });
      assert.equal(v.allowed, false);
      assert.match(v.reasons[0] ?? "", /more than 2 commits reached main since the last sync/);
      assert.equal((await gate.check({ environment: "dev", branch: "main", commits: [sha("1")], rules: [] })).allowed, true);
      assert.equal(fake.state.requests.length, 0);
    } finally {
      await fake.close();
    }
  });
});
