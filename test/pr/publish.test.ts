import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ForgeError, type CommitStatus, type Forge } from "../../src/forge/forge.ts";
import { publishPlan, type PublishTarget } from "../../src/pr/publish.ts";
import { planStatuses } from "../../src/pr/statuses.ts";

const target: PublishTarget = { forge: "github", apiUrl: "https://ghe.example.com/api/v3", repository: "acme/infra", pr: 42, sha: "a".repeat(40), tokenSource: "$GITHUB_TOKEN" };
const statuses = planStatuses({ ok: false, reason: "r", environments: ["dev", "prod"], failedStacks: new Map(), findings: [] });

/** A forge whose comment call fails as given and whose status calls are recorded. */
function forgeFailingComment(error: ForgeError): { forge: Forge; set: CommitStatus[] } {
  const set: CommitStatus[] = [];
  const unused = (): never => {
    throw new Error("not used");
  };
  const forge: Forge = {
    kind: "github", ref: (n) => `#${n}`, pullRequest: unused, pullRequestsOfCommit: unused, openPullRequests: unused, approvals: unused, commitUsers: unused, teamMembers: unused,
    upsertComment: () => Promise.reject(error),
    setStatus: (_sha, s) => {
      set.push(s);
      return Promise.resolve();
    },
  };
  return { forge, set };
}

describe("publishing the plan", () => {
  it("still sets the statuses when the comment is forbidden, and says which permission is missing", async () => {
    const { forge, set } = forgeFailingComment(new ForgeError("forbidden", "github: writing the comment on #42: Resource not accessible by integration", { status: 403 }));
    const out = await publishPlan(forge, target, { marker: "<!-- gitward:plan -->", body: "b" }, statuses, () => {});
    assert.equal(out.comment, undefined);
    assert.deepEqual(set.map((s) => s.context), ["gitward/plan/dev", "gitward/plan/prod"]);
    assert.deepEqual(out.statuses.map((s) => s.set), [true, true]);
    assert.equal(out.failures.length, 1);
    assert.match(out.failures[0]?.message ?? "", /^posting the plan comment on #42 \(github at https:\/\/ghe\.example\.com\/api\/v3, repository acme\/infra\) failed \(HTTP 403\)/);
    assert.match(out.failures[0]?.hint ?? "", /pull-requests: write and statuses: write/);
  });

  it("tries nothing more after the token is refused", async () => {
    const { forge, set } = forgeFailingComment(new ForgeError("auth", "github: writing the comment on #42: Bad credentials", { status: 401 }));
    const out = await publishPlan(forge, target, { marker: "<!-- gitward:plan -->", body: "b" }, statuses, () => {});
    assert.deepEqual(set, []);
    assert.deepEqual(out.statuses.map((s) => s.set), [false, false]);
    assert.match(out.failures[0]?.hint ?? "", /the token from \$GITHUB_TOKEN was refused/);
    assert.match(out.failures[1]?.message ?? "", /^not tried after: posting the plan comment/);
  });
});
