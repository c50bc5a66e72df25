import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, it } from "node:test";
import { ForgeError, type Forge, type ForgeSettings, type PullRequest } from "../../src/forge/forge.ts";
import { createGiteaForge } from "../../src/forge/gitea.ts";
import { openForge } from "../../src/forge/open-forge.ts";
import { teamId } from "../support/fake-forge/gitea.ts";
import { startFakeForge, type FakeForge } from "../support/fake-forge/index.ts";

const TOKEN = "gitea_secretBotToken123";
const sha = (c: string): string => c.repeat(40);

describe("Gitea forge client against the fake Gitea", () => {
  let fake: FakeForge;
  let forge: Forge;
  const settings = (more: Partial<ForgeSettings> = {}): ForgeSettings => ({
    kind: "gitea", apiUrl: fake.apiUrl, repository: "acme/infra", token: TOKEN, retries: 0, timeoutMs: 5000, ...more,
  });
  const requests = (): string[] =>
    fake.state.requests.map((r) => `${r.method} ${r.path}${r.query.page === undefined ? "" : ` page=${r.query.page}`}`);
  const rejects = async (p: Promise<unknown>, kind: ForgeError["kind"], message: RegExp): Promise<ForgeError> => {
    let caught: unknown;
    await p.catch((e: unknown) => { caught = e; });
    assert.ok(caught instanceof ForgeError, `expected a ForgeError, got ${String(caught)}`);
    assert.equal(caught.kind, kind);
    assert.match(caught.message, message);
    assert.ok(!caught.message.includes(TOKEN), "the token is never in a message");
    return caught;
  };

  beforeEach(async () => {
    fake = await startFakeForge("gitea");
    fake.state.addUser("gitward-bot", TOKEN);
    forge = createGiteaForge(settings());
  });

  afterEach(async () => {
    // Every request gitward made, and every answer the fake gave, follows Gitea 1.23's swagger.
    assert.deepEqual(fake.state.nonConforming().map((r) => [r.method, r.path, r.problems]), []);
    await fake.close();
  });

  it("is opened by openForge, writes #n, and reads a pull request under /api/v1 with the token header", async () => {
    fake.state.openPull({ number: 7, author: "alice", headSha: sha("a"), headBranch: "feat", labels: ["infra"] });
    const opened = await openForge(settings());
    assert.equal(opened.ref(7), "#7");
    const pr = await opened.pullRequest(7);
    assert.deepEqual(pr, {
      number: 7, title: "Change 7", author: "alice", state: "open", draft: false, headSha: sha("a"), headBranch: "feat",
      baseBranch: "main", mergeCommitSha: undefined, mergedBy: undefined, labels: ["infra"], url: `${fake.origin}/acme/infra/pulls/7`,
    });
    assert.deepEqual(requests(), ["GET /repos/acme/infra/pulls/7"]);
    assert.equal(fake.state.requests[0]?.token, TOKEN);
  });

  it("reads draft from the WIP: title prefix and merged state with its merge commit and merger", async () => {
    fake.state.openPull({ number: 2, title: "WIP: new cluster", author: "alice", headSha: sha("b") });
    fake.state.openPull({ number: 3, author: "alice", headSha: sha("c") });
    fake.state.merge(3, sha("d"), "bob");
    assert.equal((await forge.pullRequest(2)).draft, true);
    const merged = await forge.pullRequest(3);
    assert.deepEqual([merged.state, merged.mergeCommitSha, merged.mergedBy], ["merged", sha("d"), "bob"]);
  });

  it("finds the merged pull request of a merge commit, an open one by its head, and none as []", async () => {
    fake.state.openPull({ number: 1, author: "alice", headSha: sha("1") });
    fake.state.merge(1, sha("m"), "carol");
    fake.state.openPull({ number: 4, author: "bob", headSha: sha("4") });
    assert.deepEqual((await forge.pullRequestsOfCommit(sha("m"))).map((p) => [p.number, p.state]), [[1, "merged"]]);
    assert.deepEqual((await forge.pullRequestsOfCommit(sha("4"))).map((p) => [p.number, p.state]), [[4, "open"]]);
    assert.deepEqual(await forge.pullRequestsOfCommit(sha("0")), []);
    assert.ok(requests().includes(`GET /repos/acme/infra/commits/${sha("0")}/pull`));
  });

  it("lists open pull requests across pages by the Link header", async () => {
    for (let n = 1; n <= 60; n++) fake.state.openPull({ number: n, author: "alice", headSha: sha((n % 10).toString()) });
    fake.state.close(5);
    const open = await forge.openPullRequests();
    assert.equal(open.length, 59);
    assert.ok(!open.some((p) => p.number === 5));
    assert.deepEqual(requests(), ["GET /repos/acme/infra/pulls page=1", "GET /repos/acme/infra/pulls page=2"]);
    assert.deepEqual(fake.state.requests.map((r) => [r.query.state, r.query.limit]), [["open", "50"], ["open", "50"]]);
  });

  it("reads 120 reviews over three pages: the latest decisive review per user counts, dismissed ones do not", async () => {
    fake.state.openPull({ number: 9, author: "alice", headSha: sha("1") });
    for (let i = 0; i < 114; i++) fake.state.review(9, `filler${i % 3}`, "COMMENTED", "nit");
    fake.state.review(9, "bob", "APPROVED");
    fake.state.review(9, "carol", "APPROVED");
    fake.state.review(9, "carol", "CHANGES_REQUESTED", "no");
    fake.state.review(9, "dave", "CHANGES_REQUESTED", "no");
    fake.state.push(9, { sha: sha("2"), author: "alice", committer: "alice", message: "fix" });
    fake.state.review(9, "dave", "APPROVED");
    fake.state.review(9, "erin", "APPROVED").state = "DISMISSED";
    const approvals = await forge.approvals(await forge.pullRequest(9));
    assert.deepEqual(approvals.map((a) => [a.user, a.commitSha]), [["bob", sha("1")], ["dave", sha("2")]]);
    assert.match(approvals[0]?.submittedAt ?? "", /^2026-12-01T10:\d\d:\d\dZ$/);
    // Gitea sends no Link on reviews: the client goes on while X-Total-Count says there is more.
    assert.deepEqual(requests().slice(1), ["GET /repos/acme/infra/pulls/9/reviews page=1", "GET /repos/acme/infra/pulls/9/reviews page=2", "GET /repos/acme/infra/pulls/9/reviews page=3"]);
  });

  it("lists the users who authored or committed a pull request's commits", async () => {
    fake.state.openPull({
      number: 5, author: "alice", headSha: sha("2"),
      commits: [{ sha: sha("1"), author: "alice", committer: "bob", message: "a" }, { sha: sha("2"), author: "carol", committer: "carol", message: "b" }],
    });
    const pr: PullRequest = await forge.pullRequest(5);
    assert.deepEqual([...(await forge.commitUsers(pr))].sort(), ["alice", "bob", "carol"]);
    const call = fake.state.requests.at(-1);
    assert.equal(call?.path, "/repos/acme/infra/pulls/5/commits");
    assert.equal(call.query.verification, "false");
  });

  it("reads a team's members through the organization's teams, by name ignoring case", async () => {
    fake.state.teams.set("acme/platform", ["alice", "bob"]);
    fake.state.teams.set("acme/ops", ["carol"]);
    fake.state.teams.set("other/platform", ["mallory"]);
    assert.deepEqual(await forge.teamMembers("acme/Platform"), ["alice", "bob"]);
    assert.deepEqual(requests(), ["GET /orgs/acme/teams page=1", `GET /teams/${teamId("acme/platform")}/members page=1`]);
    await rejects(forge.teamMembers("acme/nobody"), "not-found", /team acme\/nobody: organization acme has no team named nobody/);
    await rejects(forge.teamMembers("ghost-org/x"), "not-found", /Gitea acme\/infra: listing the teams of organization ghost-org for team ghost-org\/x: 404 Not Found/);
  });

  it("creates the marked comment once and then edits it in place", async () => {
    fake.state.openPull({ number: 3, author: "alice", headSha: sha("3") });
    const marker = "<!-- gitward:plan -->";
    const first = await forge.upsertComment(3, marker, `${marker}\nplan v1`);
    const second = await forge.upsertComment(3, marker, `${marker}\nplan v2`);
    const third = await forge.upsertComment(3, marker, `${marker}\nplan v2`);
    assert.equal(first.created, true);
    assert.deepEqual(second, { id: first.id, created: false });
    assert.deepEqual(third, { id: first.id, created: false });
    const comments = fake.state.pull(3).comments;
    assert.deepEqual(comments.map((c) => [String(c.id), c.user, c.body]), [[first.id, "gitward-bot", `${marker}\nplan v2`]]);
    assert.deepEqual(requests(), [
      "GET /repos/acme/infra/issues/3/comments", "POST /repos/acme/infra/issues/3/comments",
      "GET /repos/acme/infra/issues/3/comments", `PATCH /repos/acme/infra/issues/comments/${first.id}`,
      "GET /repos/acme/infra/issues/3/comments",
    ]);
  });

  it("sets commit statuses with context, description and target URL", async () => {
    await forge.setStatus(sha("e"), { context: "gitward/plan/prod", state: "pending", description: "planning" });
    await forge.setStatus(sha("e"), { context: "gitward/plan/prod", state: "success", description: "2 to change", targetUrl: "https://ci.example/1" });
    const latest = fake.state.latestStatuses(sha("e")).get("gitward/plan/prod");
    assert.deepEqual([latest?.state, latest?.description, latest?.targetUrl, latest?.creator], ["success", "2 to change", "https://ci.example/1", "gitward-bot"]);
    assert.deepEqual(fake.state.requests[0]?.body, { state: "pending", context: "gitward/plan/prod", description: "planning" });
  });

  it("retries after a 429, waiting the Retry-After, and after a 502", async () => {
    fake.state.openPull({ number: 1, author: "alice", headSha: sha("1") });
    const retrying = createGiteaForge(settings({ retries: 2 }));
    fake.state.faults.rateLimitNext = 1;
    const started = Date.now();
    assert.equal((await retrying.pullRequest(1)).number, 1);
    assert.ok(Date.now() - started >= 900, "waited for Retry-After: 1");
    assert.deepEqual(fake.state.requests.map((r) => r.status), [429, 200]);
    fake.state.faults.serverErrorNext = 1;
    assert.equal((await retrying.pullRequest(1)).number, 1);
    assert.deepEqual(fake.state.requests.map((r) => r.status), [429, 200, 502, 200]);
  });

  it("gives up as rate-limited once retries are spent", async () => {
    fake.state.faults.rateLimitNext = 5;
    await rejects(createGiteaForge(settings({ retries: 1 })).openPullRequests(), "rate-limited", /listing open pull requests: 429 Too Many Requests/);
    assert.equal(fake.state.requests.length, 2);
  });

  it("turns a 401 into an auth error naming the call and repository, never the token", async () => {
    fake.state.openPull({ number: 42, author: "alice", headSha: sha("1") });
    const wrong = createGiteaForge(settings({ token: "gitea_wrongToken999" }));
    const e = await rejects(wrong.approvals(await forge.pullRequest(42)), "auth", /^Gitea acme\/infra: listing reviews of #42: 401 Unauthorized/);
    assert.equal(e.status, 401);
    assert.ok(!e.message.includes("gitea_wrongToken999"));
  });

  it("turns a 404 into not-found", async () => {
    await rejects(forge.pullRequest(404), "not-found", /^Gitea acme\/infra: reading pull request #404: 404 Not Found \(not found\)$/);
    await rejects(createGiteaForge(settings({ repository: "acme/nope" })).setStatus(sha("1"), { context: "c", state: "error", description: "" }), "not-found", /acme\/nope: setting status c/);
  });

  it("reports a forge that does not answer as unreachable, quickly without retries", async () => {
    fake.state.faults.down = true;
    const started = Date.now();
    await rejects(forge.openPullRequests(), "unreachable", /^Gitea acme\/infra: listing open pull requests: unreachable/);
    await fake.close();
    await rejects(createGiteaForge(settings({ retries: 1 })).pullRequest(1), "unreachable", /reading pull request #1: unreachable: connect ECONNREFUSED/);
    assert.ok(Date.now() - started < 3000);
  });
});

describe("Gitea forge client on Gitea's recorded answers", () => {
  it("reads a pull request body as Gitea writes it, with null for what is unset", async () => {
    // The face leaves nulls out (the swagger declares none); real Gitea sends them, as recorded here.
    const recorded = readFileSync(new URL("../fixtures/forge-api/gitea/responses/get_pull_request.json", import.meta.url), "utf8");
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization} ${req.headers["user-agent"]}`);
      res.writeHead(200, { "content-type": "application/json" }).end(recorded);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const forge = createGiteaForge({ kind: "gitea", apiUrl: `http://127.0.0.1:${port}/api/v1/`, repository: "jcitizen/my-repo", token: "t0k3n-abc", retries: 0 });
      assert.deepEqual(await forge.pullRequest(1), {
        number: 1, title: "Add License File", author: "jcitizen", state: "open", draft: false,
        headSha: "4f5e7d8f15cf79387cfd8a0d30c58855ab61e138", headBranch: "feature", baseBranch: "master",
        mergeCommitSha: undefined, mergedBy: undefined, labels: [], url: "https://try.gitea.io/jcitizen/my-repo/pulls/1",
      });
      assert.deepEqual(seen, ["GET /api/v1/repos/jcitizen/my-repo/pulls/1 token t0k3n-abc gitward"]);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("gives up on a forge that accepts the request but never answers after the timeout, as unreachable", async () => {
    const server = createServer(() => { /* never answers */ });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const forge = createGiteaForge({ kind: "gitea", apiUrl: `http://127.0.0.1:${port}/api/v1`, repository: "acme/infra", token: "t0k3n-abc", retries: 0, timeoutMs: 200 });
      const started = Date.now();
      await assert.rejects(forge.openPullRequests(), (e: unknown) =>
        e instanceof ForgeError && e.kind === "unreachable" && e.message === "Gitea acme/infra: listing open pull requests: no answer within 200 ms");
      assert.ok(Date.now() - started < 2000);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
