import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ForgeError } from "../../src/forge/forge.ts";
import type { Forge, ForgeSettings } from "../../src/forge/forge.ts";
import { createGitLabForge } from "../../src/forge/gitlab.ts";
import { startFakeForge, FakeForgeState, type FakeForge } from "../support/fake-forge/index.ts";
import { gitlabFace } from "../support/fake-forge/gitlab.ts";
import { serveFace } from "../support/fake-forge/server.ts";

const TOKEN = "glpat-secret-token-1";
const MARKER = "<!-- gitward:plan:prod -->";

function client(fake: FakeForge, over: Partial<ForgeSettings> = {}): Forge {
  return createGitLabForge({ kind: "gitlab", apiUrl: fake.apiUrl, repository: "acme/infra", token: TOKEN, retries: 0, timeoutMs: 5000, ...over });
}

function world(): FakeForgeState {
  const state = new FakeForgeState();
  state.addUser("gitward-bot", TOKEN);
  state.openPull({ number: 42, author: "alice", headSha: "a".repeat(40), title: "Scale web" });
  return state;
}

async function rejects(p: Promise<unknown>, kind: string, pattern: RegExp): Promise<ForgeError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ForgeError, `expected a ForgeError, got ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    assert.match(e.message, pattern);
    assert.ok(!e.message.includes(TOKEN), `the token leaked: ${e.message}`);
    return e;
  }
  assert.fail("expected a rejection");
}

describe("GitLab forge client against the fake GitLab", () => {
  let fake: FakeForge;
  before(async () => {
    fake = await startFakeForge("gitlab", world());
  });
  after(() => fake.close());

  it("reads a merge request by iid, with the project given by path (URL-encoded) or by id", async () => {
    const byPath = await client(fake).pullRequest(42);
    assert.deepEqual(byPath, {
      number: 42, title: "Scale web", author: "alice", state: "open", draft: false, headSha: "a".repeat(40), headBranch: "change-42",
      baseBranch: "main", mergeCommitSha: undefined, mergedBy: undefined, labels: [], url: `${fake.origin}/acme/infra/-/merge_requests/42`,
    });
    assert.equal(fake.state.requests.at(-1)?.path, "/projects/acme%2Finfra/merge_requests/42");
    assert.equal(fake.state.requests.at(-1)?.token, TOKEN);
    const byId = await client(fake, { repository: "17" }).pullRequest(42);
    assert.deepEqual(byId, byPath);
    assert.equal(fake.state.requests.at(-1)?.path, "/projects/17/merge_requests/42");
    assert.equal(client(fake).ref(42), "!42");
  });

  it("reads merged, draft and closed merge requests, and a fast-forward merge's head as what landed", async () => {
    const s = fake.state;
    s.openPull({ number: 50, author: "bob", headSha: "b".repeat(40), draft: true, labels: ["infra"] });
    s.openPull({ number: 51, author: "bob", headSha: "c".repeat(40) });
    s.merge(51, "d".repeat(40), "carol");
    s.openPull({ number: 52, author: "bob", headSha: "e".repeat(40) });
    s.close(52);
    const forge = client(fake);
    const draft = await forge.pullRequest(50);
    assert.equal(draft.draft, true);
    assert.deepEqual(draft.labels, ["infra"]);
    const merged = await forge.pullRequest(51);
    assert.equal(merged.state, "merged");
    assert.equal(merged.mergeCommitSha, "d".repeat(40));
    assert.equal(merged.mergedBy, "carol");
    assert.equal((await forge.pullRequest(52)).state, "closed");
    // Fast-forward: GitLab reports no merge or squash commit; the head is on the base branch.
    s.openPull({ number: 53, author: "bob", headSha: "f".repeat(40) });
    s.merge(53, "f".repeat(40), "carol");
    delete s.pull(53).mergeCommitSha;
    assert.equal((await forge.pullRequest(53)).mergeCommitSha, "f".repeat(40));
  });

  it("lists the merge requests of a commit and the open ones, every page", async () => {
    const s = fake.state;
    for (let n = 100; n < 230; n++) s.openPull({ number: n, author: "dave", headSha: n.toString(16).padStart(40, "0") });
    s.push(100, { sha: "9".repeat(40), author: "dave", committer: "dave", message: "more" });
    const forge = client(fake);
    const ofCommit = await forge.pullRequestsOfCommit("9".repeat(40));
    assert.deepEqual(ofCommit.map((p) => p.number), [100]);
    const open = await forge.openPullRequests();
    const expected = [...s.pulls.values()].filter((p) => p.state === "open").map((p) => p.number).sort((a, b) => a - b);
    assert.deepEqual(open.map((p) => p.number).sort((a, b) => a - b), expected);
    const pages = s.requests.filter((r) => r.path === "/projects/acme%2Finfra/merge_requests" && r.query["state"] === "opened");
    assert.deepEqual(pages.map((r) => r.query["page"] ?? "1"), ["1", "2"]);
  });

  it("reads approvals: the latest approving review per user, all 130 of them, unapproves withdrawn", async () => {
    const s = fake.state;
    s.openPull({ number: 300, author: "alice", headSha: "3".repeat(40) });
    for (let i = 0; i < 130; i++) s.review(300, `approver-${i}`);
    s.review(300, "approver-0", "DISMISSED");
    s.review(300, "approver-1", "COMMENTED");
    const forge = client(fake);
    const approvals = await forge.approvals(await forge.pullRequest(300));
    assert.equal(approvals.length, 129);
    assert.ok(!approvals.some((a) => a.user === "approver-0"));
    assert.ok(approvals.some((a) => a.user === "approver-1"));
    assert.ok(approvals.every((a) => a.commitSha === undefined && typeof a.submittedAt === "string"));
    assert.equal(s.requests.at(-1)?.path, "/projects/acme%2Finfra/merge_requests/300/approvals");
    assert.deepEqual(await forge.commitUsers(await forge.pullRequest(300)), []);
  });

  it("reads a group's members by URL-encoded path, every page", async () => {
    const members = Array.from({ length: 130 }, (_, i) => `member-${i}`);
    fake.state.teams.set("acme/platform", members);
    assert.deepEqual(await client(fake).teamMembers("acme/platform"), members);
    const pages = fake.state.requests.filter((r) => r.path === "/groups/acme%2Fplatform/members");
    assert.equal(pages.length, 2);
    await rejects(client(fake).teamMembers("acme/nobody"), "not-found", /GitLab acme\/infra: reading the members of group acme\/nobody: 404 Group Not Found/);
  });

  it("upserts one note per marker, never matching system notes", async () => {
    const s = fake.state;
    // A pushed commit whose message quotes the marker: GitLab's "added 1 commit" system note then contains it.
    s.push(42, { sha: "4".repeat(40), author: "alice", committer: "alice", message: `copy ${MARKER}` });
    const forge = client(fake);
    const first = await forge.upsertComment(42, MARKER, `${MARKER}\nplan v1`);
    assert.equal(first.created, true);
    const second = await forge.upsertComment(42, MARKER, `${MARKER}\nplan v2`);
    assert.deepEqual(second, { id: first.id, created: false });
    const comments = s.pull(42).comments;
    assert.equal(comments.length, 1);
    assert.equal(comments[0]?.body, `${MARKER}\nplan v2`);
    assert.equal(comments[0]?.user, "gitward-bot");
    const puts = s.requests.filter((r) => r.method === "PUT");
    assert.deepEqual(puts.map((r) => r.path), [`/projects/acme%2Finfra/merge_requests/42/notes/${first.id}`]);
    // The same body again is no write at all.
    await forge.upsertComment(42, MARKER, `${MARKER}\nplan v2`);
    assert.equal(s.requests.filter((r) => r.method === "PUT").length, 1);
  });

  it("sets commit statuses: failure and error become failed, pending twice is no error", async () => {
    const s = fake.state;
    const forge = client(fake);
    const sha = "5".repeat(40);
    await forge.setStatus(sha, { context: "gitward/plan/prod", state: "pending", description: "planning" });
    await forge.setStatus(sha, { context: "gitward/plan/prod", state: "pending", description: "still planning" });
    await forge.setStatus(sha, { context: "gitward/plan/prod", state: "failure", description: "2 errors", targetUrl: "https://ci.example/1" });
    await forge.setStatus(sha, { context: "gitward/prod", state: "error", description: "broken" });
    await forge.setStatus(sha, { context: "gitward/stage", state: "success", description: "ok" });
    const latest = s.latestStatuses(sha);
    assert.equal(latest.get("gitward/plan/prod")?.state, "failed");
    assert.equal(latest.get("gitward/plan/prod")?.targetUrl, "https://ci.example/1");
    assert.equal(latest.get("gitward/prod")?.state, "failed");
    assert.equal(latest.get("gitward/stage")?.state, "success");
    const posts = s.requests.filter((r) => r.method === "POST" && r.path === `/projects/acme%2Finfra/statuses/${sha}`);
    assert.deepEqual(posts.map((r) => r.status), [201, 400, 201, 201, 201]);
  });

  it("retries a 429 after GitLab's Retry-After, and a 502", async () => {
    const forge = client(fake, { retries: 2 });
    fake.state.faults.rateLimitNext = 1;
    const before429 = fake.state.requests.length;
    const started = Date.now();
    assert.equal((await forge.pullRequest(42)).number, 42);
    assert.ok(Date.now() - started >= 900, "waited for Retry-After: 1");
    assert.deepEqual(fake.state.requests.slice(before429).map((r) => r.status), [429, 200]);
    fake.state.faults.serverErrorNext = 1;
    const before502 = fake.state.requests.length;
    assert.equal((await forge.pullRequest(42)).number, 42);
    assert.deepEqual(fake.state.requests.slice(before502).map((r) => r.status), [502, 200]);
  });

  it("gives up as rate-limited or unreachable when retries run out", async () => {
    fake.state.faults.rateLimitNext = 1;
    await rejects(client(fake).pullRequest(42), "rate-limited", /^GitLab acme\/infra: reading !42: 429/);
    fake.state.faults.serverErrorNext = 1;
    await rejects(client(fake).pullRequest(42), "unreachable", /^GitLab acme\/infra: reading !42: 502 Bad Gateway/);
  });

  it("maps 401 to auth without the token, and 404 to not-found", async () => {
    await rejects(client(fake, { token: "glpat-wrong-token" }).approvals(await client(fake).pullRequest(42)), "auth",
      /^GitLab acme\/infra: reading the approvals of !42: 401 Unauthorized$/);
    await rejects(client(fake).pullRequest(999), "not-found", /^GitLab acme\/infra: reading !999: 404 Not found$/);
    await rejects(client(fake, { repository: "acme/other" }).pullRequest(42), "not-found", /^GitLab acme\/other: reading !42: 404 Project Not Found$/);
  });

  it("conforms to GitLab's API description throughout", () => {
    assert.deepEqual(fake.state.nonConforming().map((r) => `${r.method} ${r.path}: ${r.problems.join("; ")}`), []);
  });
});

describe("GitLab forge client: reaching GitLab", () => {
  it("works with a self-hosted GitLab under a sub-path", async () => {
    const fake = await serveFace(gitlabFace({ basePath: "/gitlab/api/v4" }), world());
    try {
      const pr = await client(fake).pullRequest(42);
      assert.equal(pr.url, `${fake.origin}/gitlab/acme/infra/-/merge_requests/42`);
      assert.equal(fake.state.requests.at(-1)?.status, 200);
    } finally {
      await fake.close();
    }
  });

  it("the face's check forgives only GitLab's nulls and known description gaps, nothing else", () => {
    const check = gitlabFace().conformance!;
    const get = (body: unknown) => check.response("GET", "/projects/{id}/merge_requests/{merge_request_iid}", 200, body);
    assert.deepEqual(get({ iid: 1, merged_by: null, merge_commit_sha: null }), []);
    assert.deepEqual(get({ iid: 1, merged_by: "carol" }), ["body.merged_by: must be object"]);
    assert.deepEqual(get({ iid: "1" }), ["body.iid: must be integer"]);
  });

  it("refuses an API URL that is not GitLab's /api/v4 base", () => {
    assert.throws(() => createGitLabForge({ kind: "gitlab", apiUrl: "https://gitlab.example.com", repository: "acme/infra", token: TOKEN }),
      (e: unknown) => e instanceof ForgeError && e.kind === "invalid" && /does not end in \/api\/v4/.test(e.message));
  });

  it("reports a forge that is down as unreachable, at once when retries are 0", async () => {
    const fake = await startFakeForge("gitlab", world());
    try {
      fake.state.faults.down = true;
      const started = Date.now();
      await rejects(client(fake).openPullRequests(), "unreachable", /^GitLab acme\/infra: listing the open merge requests: /);
      assert.ok(Date.now() - started < 2000);
    } finally {
      await fake.close();
    }
  });
});
