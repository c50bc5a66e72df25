import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { ForgeError, type Forge, type ForgeSettings, type PullRequest } from "../../src/forge/forge.ts";
import { RequestError } from "@octokit/request-error";
import { gitHubError } from "../../src/forge/github-errors.ts";
import { createGitHubForge } from "../../src/forge/github.ts";
import { openForge } from "../../src/forge/open-forge.ts";
import { githubFace } from "../support/fake-forge/github.ts";
import { startFakeForge, type FakeForge } from "../support/fake-forge/index.ts";
import { serveFace } from "../support/fake-forge/server.ts";

const TOKEN = "ghp_secretBotToken123";

describe("GitHub forge client against the fake GitHub", () => {
  let fake: FakeForge;
  let forge: Forge;
  const settings = (more: Partial<ForgeSettings> = {}): ForgeSettings => ({
    kind: "github", apiUrl: fake.apiUrl, repository: "acme/infra", token: TOKEN, ...more,
  });

  beforeEach(async () => {
    fake = await startFakeForge("github");
    fake.state.addUser("gitward-bot", TOKEN);
    forge = createGitHubForge(settings());
  });

  afterEach(async () => {
    // Every request gitward made, and every answer the fake gave, follows GitHub's API description.
    assert.deepEqual(fake.state.nonConforming(), []);
    await fake.close();
  });

  const requests = (): string[] => fake.state.requests.map((r) => `${r.method} ${r.path}${r.query["page"] === undefined ? "" : ` page=${r.query["page"]}`}`);

  it("is opened by openForge, writes #n, and reads a pull request under the Enterprise base path with the token", async () => {
    fake.state.openPull({ number: 7, author: "alice", headSha: "a".repeat(40), headBranch: "feat", labels: ["infra"], draft: true });
    const opened = await openForge(settings());
    assert.equal(opened.ref(7), "#7");
    const pr = await opened.pullRequest(7);
    assert.deepEqual(pr, {
      number: 7, title: "Change 7", author: "alice", state: "open", draft: true, headSha: "a".repeat(40), headBranch: "feat",
      baseBranch: "main", mergeCommitSha: undefined, mergedBy: undefined, labels: ["infra"], url: `${fake.origin}/acme/infra/pull/7`,
    });
    assert.deepEqual(requests(), ["GET /repos/acme/infra/pulls/7"]);
    assert.equal(fake.state.requests[0]?.token, TOKEN);
  });

  it("reports a merged pull request as merged, with who merged it and its merge commit", async () => {
    fake.state.openPull({ number: 3, author: "alice", headSha: "h3" });
    fake.state.merge(3, "m3", "bob");
    const pr = await forge.pullRequest(3);
    assert.equal(pr.state, "merged");
    assert.equal(pr.mergedBy, "bob");
    assert.equal(pr.mergeCommitSha, "m3");
  });

  it("lists the pull requests of a commit in every state, and the open ones", async () => {
    fake.state.openPull({ number: 1, author: "alice", headSha: "h1", commits: [{ sha: "c0", author: "alice", committer: "alice", message: "x" }, { sha: "h1", author: "alice", committer: "alice", message: "y" }] });
    fake.state.openPull({ number: 2, author: "bob", headSha: "h2" });
    fake.state.merge(2, "m2", "carol");
    fake.state.openPull({ number: 4, author: "bob", headSha: "h4" });
    assert.deepEqual((await forge.pullRequestsOfCommit("c0")).map((p) => [p.number, p.state]), [[1, "open"]]);
    assert.deepEqual((await forge.pullRequestsOfCommit("m2")).map((p) => [p.number, p.state, p.mergeCommitSha]), [[2, "merged", "m2"]]);
    assert.deepEqual(await forge.pullRequestsOfCommit("nowhere"), []);
    assert.deepEqual((await forge.openPullRequests()).map((p) => p.number).sort(), [1, 4]);
    assert.ok(requests().includes("GET /repos/acme/infra/commits/c0/pulls"));
    assert.equal(fake.state.requests.find((r) => r.path === "/repos/acme/infra/pulls")?.query["state"], "open");
  });

  describe("approvals", () => {
    let pr: PullRequest;
    beforeEach(async () => {
      fake.state.openPull({ number: 42, author: "alice", headSha: "h42" });
      pr = await forge.pullRequest(42);
    });

    it("reads every page (150 reviews) and keeps each user's latest decisive review", async () => {
      for (let i = 0; i < 148; i++) fake.state.review(42, `filler${i % 5}`, "COMMENTED");
      fake.state.review(42, "bob", "APPROVED");
      fake.state.review(42, "carol", "APPROVED");
      const approvals = await forge.approvals(pr);
      assert.deepEqual(approvals.map((a) => a.user), ["bob", "carol"]);
      assert.equal(approvals[0]?.commitSha, "h42");
      assert.match(approvals[0]?.submittedAt ?? "", /^2026-12-01T/);
      const pages = fake.state.requests.filter((r) => r.path === "/repos/acme/infra/pulls/42/reviews");
      assert.deepEqual(pages.map((r) => [r.query["per_page"], r.query["page"] ?? "1"]), [["100", "1"], ["100", "2"]]);
    });

    it("approve then request changes is not approved; approve then comment stays approved; a dismissal withdraws", async () => {
      fake.state.review(42, "bob", "APPROVED");
      fake.state.review(42, "bob", "CHANGES_REQUESTED");
      fake.state.review(42, "carol", "APPROVED");
      fake.state.review(42, "carol", "COMMENTED");
      const dismissed = fake.state.review(42, "dave", "APPROVED");
      dismissed.state = "DISMISSED";
      fake.state.review(42, "erin", "CHANGES_REQUESTED");
      fake.state.review(42, "erin", "APPROVED");
      assert.deepEqual((await forge.approvals(pr)).map((a) => a.user).sort(), ["carol", "erin"]);
    });
  });

  it("lists the users of a pull request's commits, without web-flow and unlinked identities", async () => {
    fake.state.openPull({
      number: 5, author: "alice", headSha: "c3",
      commits: [
        { sha: "c1", author: "alice", committer: "alice", message: "a" },
        { sha: "c2", author: "bob", committer: "web-flow", message: "b" },
        { sha: "c3", author: "", committer: "carol", message: "c" },
      ],
    });
    const users = await forge.commitUsers(await forge.pullRequest(5));
    assert.deepEqual([...users].sort(), ["alice", "bob", "carol"]);
    assert.ok(requests().includes("GET /repos/acme/infra/pulls/5/commits"));
  });

  it("lists the members of a team (org/slug) and refuses a team name of another form", async () => {
    fake.state.teams.set("acme/platform", ["bob", "carol"]);
    assert.deepEqual(await forge.teamMembers("acme/platform"), ["bob", "carol"]);
    assert.ok(requests().includes("GET /orgs/acme/teams/platform/members"));
    await assert.rejects(forge.teamMembers("acme/nobody"), (e: unknown) => e instanceof ForgeError && e.kind === "not-found");
    await assert.rejects(forge.teamMembers("platform"), (e: unknown) => e instanceof ForgeError && e.kind === "invalid");
  });

  it("upserts one comment per marker: two calls make one comment with the second body", async () => {
    fake.state.openPull({ number: 9, author: "alice", headSha: "h9" });
    const marker = "<!-- gitward:plan -->";
    const first = await forge.upsertComment(9, marker, `${marker}\nplan: 2 changes`);
    const second = await forge.upsertComment(9, marker, "plan: 3 changes");
    assert.equal(first.created, true);
    assert.deepEqual(second, { id: first.id, created: false });
    const comments = fake.state.pull(9).comments;
    assert.equal(comments.length, 1);
    assert.equal(comments[0]?.body, `${marker}\nplan: 3 changes`);
    assert.equal(String(comments[0]?.id), first.id);
    assert.deepEqual(requests().filter((r) => !r.startsWith("GET")), [
      "POST /repos/acme/infra/issues/9/comments", `PATCH /repos/acme/infra/issues/comments/${first.id}`,
    ]);
  });

  it("sets commit statuses, cutting a description to 140 characters", async () => {
    await forge.setStatus("h1", { context: "gitward/plan/prod", state: "pending", description: "planning" });
    await forge.setStatus("h1", { context: "gitward/plan/prod", state: "success", description: "x".repeat(300), targetUrl: "https://ci.example/1" });
    const latest = fake.state.latestStatuses("h1").get("gitward/plan/prod");
    assert.equal(latest?.state, "success");
    assert.equal(latest?.description.length, 140);
    assert.equal(latest?.targetUrl, "https://ci.example/1");
    assert.equal(fake.state.statusesOf("h1").length, 2);
  });

  it("waits out a rate limit and retries: the call succeeds after two requests", async () => {
    fake.state.openPull({ number: 1, author: "alice", headSha: "h1" });
    fake.state.faults.rateLimitNext = 1;
    assert.equal((await forge.pullRequest(1)).number, 1);
    assert.deepEqual(fake.state.requests.map((r) => r.status), [403, 200]);
  });

  it("fails as rate-limited without waiting when retries are off", async () => {
    fake.state.faults.rateLimitNext = 1;
    const noRetry = createGitHubForge(settings({ retries: 0 }));
    await assert.rejects(noRetry.pullRequest(1), (e: unknown) =>
      e instanceof ForgeError && e.kind === "rate-limited" && /^GitHub acme\/infra: reading pull request #1: 403 API rate limit exceeded/.test(e.message));
  });

  it("does not wait for a rate limit that lifts in more than a minute", async () => {
    const face = githubFace();
    const later = await serveFace({ ...face, rateLimited: () => {
      const now = face.rateLimited();
      return { ...now, headers: { ...now.headers, "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 3600) } };
    } }, fake.state);
    try {
      fake.state.faults.rateLimitNext = 1;
      const started = Date.now();
      await assert.rejects(createGitHubForge(settings({ apiUrl: later.apiUrl })).pullRequest(1), (e: unknown) =>
        e instanceof ForgeError && e.kind === "rate-limited" && /\(resets at \d{4}-/.test(e.message));
      assert.ok(Date.now() - started < 1000, "it did not wait");
      assert.deepEqual(fake.state.requests.map((r) => r.status), [403]);
    } finally {
      await later.close();
    }
  });

  it("retries after a 502", async () => {
    fake.state.openPull({ number: 1, author: "alice", headSha: "h1" });
    fake.state.faults.serverErrorNext = 1;
    assert.equal((await forge.pullRequest(1)).number, 1);
    assert.deepEqual(fake.state.requests.map((r) => r.status), [502, 200]);
  });

  it("an unknown token is an auth error whose message names the call and not the token", async () => {
    fake.state.openPull({ number: 42, author: "alice", headSha: "h42" });
    const pr = await forge.pullRequest(42);
    const stranger = createGitHubForge(settings({ token: "ghp_unknownToken999" }));
    await assert.rejects(stranger.approvals(pr), (e: unknown) => {
      assert.ok(e instanceof ForgeError);
      assert.equal(e.kind, "auth");
      assert.equal(e.status, 401);
      assert.equal(e.message, "GitHub acme/infra: listing reviews of #42: 401 Bad credentials");
      assert.doesNotMatch(e.message, /ghp_/);
      return true;
    });
  });

  it("a missing pull request is not-found", async () => {
    await assert.rejects(forge.pullRequest(404), (e: unknown) =>
      e instanceof ForgeError && e.kind === "not-found" && e.message === "GitHub acme/infra: reading pull request #404: 404 Not Found");
  });

  it("a forge that is down is unreachable", async () => {
    fake.state.faults.down = true;
    const quick = createGitHubForge(settings({ retries: 0, timeoutMs: 2000 }));
    await assert.rejects(quick.setStatus("h1", { context: "c", state: "pending", description: "d" }), (e: unknown) =>
      e instanceof ForgeError && e.kind === "unreachable" && e.message.startsWith("GitHub acme/infra: setting status c on h1: no answer from") && !e.message.includes(TOKEN));
  });
});

describe("gitHubError", () => {
  const ctx = { repository: "acme/infra", apiUrl: "https://ghe.example/api/v3", token: TOKEN };
  const answer = (status: number, data: unknown, headers: Record<string, string> = {}): RequestError =>
    new RequestError("ignored", status, {
      request: { method: "GET", url: "https://ghe.example/api/v3/x", headers: {} },
      response: { status, url: "https://ghe.example/api/v3/x", headers, data },
    });

  it("tells a missing permission (forbidden) from a rate limit by GitHub's headers and message", () => {
    const forbidden = gitHubError(ctx, "setting status", answer(403, { message: "Resource not accessible by integration" }));
    assert.equal(forbidden.kind, "forbidden");
    assert.equal(forbidden.message, "GitHub acme/infra: setting status: 403 Resource not accessible by integration");
    const secondary = gitHubError(ctx, "writing the comment on #1", answer(403, { message: "You have exceeded a secondary rate limit." }, { "retry-after": "120" }));
    assert.equal(secondary.kind, "rate-limited");
    assert.match(secondary.message, /secondary rate limit\. \(retry after 120 s\)$/);
    assert.equal(gitHubError(ctx, "x", answer(429, { message: "Too many requests" }, { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1800000000" })).kind, "rate-limited");
  });

  it("maps 422 to invalid and 5xx to unreachable, and never lets the token through", () => {
    assert.equal(gitHubError(ctx, "x", answer(422, { message: "Validation Failed" })).kind, "invalid");
    assert.equal(gitHubError(ctx, "x", answer(503, { message: "Service Unavailable" })).kind, "unreachable");
    const echoed = gitHubError(ctx, "x", answer(400, { message: `bad header token ${TOKEN}` }));
    assert.equal(echoed.message, "GitHub acme/infra: x: 400 bad header token ***");
  });
});
