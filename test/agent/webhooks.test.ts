import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { verifyWebhook, type PushEvent, type WebhookHeaders, type WebhookSecrets, type WebhookVerdict } from "../../src/agent/webhooks.ts";

const secrets: WebhookSecrets = { github: "gh-secret-123", gitlab: "gl-token-456", gitea: "gitea-secret-789", generic: "generic-secret-0" };
const after = "bffeb74224043ba2feb48d137756c8a9331c449a";
const before = "28e1879d029cb852e4844d9c718537df08844e03";

const hmac = (secret: string, body: Buffer | string): string => createHmac("sha256", secret).update(body).digest("hex");
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

const githubPush = (ref = "refs/heads/main"): Buffer =>
  json({
    ref, before, after,
    repository: { full_name: "acme/infra", clone_url: "https://github.com/acme/infra.git", ssh_url: "git@github.com:acme/infra.git", html_url: "https://github.com/acme/infra" },
    pusher: { name: "octocat", email: "octocat@example.com" },
    commits: [{ id: after }, { id: before }],
  });
const giteaPush = (): Buffer =>
  json({
    secret: "", ref: "refs/heads/develop", before, after, total_commits: 3, commits: [{ id: after }],
    repository: { full_name: "gitea/webhooks", clone_url: "http://localhost:3000/gitea/webhooks.git", ssh_url: "ssh://gitea@localhost:2222/gitea/webhooks.git" },
    pusher: { login: "gitea", username: "gitea", email: "someone@gitea.io" },
  });
const gitlabPush = (ref = "refs/heads/main"): Buffer =>
  json({
    object_kind: ref.startsWith("refs/tags/") ? "tag_push" : "push", ref, before, after, user_name: "John Smith", user_username: "jsmith", total_commits_count: 4, commits: [],
    project: { path_with_namespace: "mike/diaspora", git_http_url: "http://example.com/mike/diaspora.git", git_ssh_url: "git@example.com:mike/diaspora.git", web_url: "http://example.com/mike/diaspora" },
  });

const github = (body: Buffer, event = "push", secret = secrets.github ?? ""): WebhookHeaders => ({
  "x-github-event": event, "x-github-delivery": "1", "x-hub-signature-256": `sha256=${hmac(secret, body)}`, "content-type": "application/json",
});
// Gitea sends GitHub's and Gogs' headers too; its own decide.
const gitea = (body: Buffer, event = "push", secret = secrets.gitea ?? ""): WebhookHeaders => ({
  "x-gitea-event": event, "x-github-event": event, "x-gogs-event": event, "x-gitea-signature": hmac(secret, body), "content-type": "application/json",
});
const gitlab = (event = "Push Hook", token = secrets.gitlab ?? ""): WebhookHeaders => ({ "x-gitlab-event": event, "x-gitlab-token": token });
const generic = (body: Buffer, secret = secrets.generic ?? ""): WebhookHeaders => ({ "x-gitward-signature": `sha256=${hmac(secret, body)}` });

function pushOf(v: WebhookVerdict): PushEvent {
  assert.ok(v.ok, v.ok ? "" : `rejected ${v.status}: ${v.reason}`);
  assert.ok(v.event !== undefined, "expected a push event");
  return v.event;
}

function rejected(v: WebhookVerdict, status: 400 | 401, reason: RegExp): void {
  assert.equal(v.ok, false, "expected a rejection");
  if (v.ok) return;
  assert.equal(v.status, status, v.reason);
  assert.match(v.reason, reason);
  for (const s of Object.values(secrets)) assert.ok(!v.reason.includes(s), "the reason never contains a secret");
}

describe("verifyWebhook", () => {
  it("accepts a GitHub push and parses it", () => {
    const body = githubPush();
    const v = verifyWebhook(github(body), body, secrets);
    assert.equal(v.ok && v.source, "github");
    assert.deepEqual(pushOf(v), {
      ref: "refs/heads/main", branch: "main", after, before, deleted: false, pusher: "octocat", commits: 2,
      repositories: ["https://github.com/acme/infra.git", "git@github.com:acme/infra.git", "https://github.com/acme/infra", "acme/infra"],
    });
  });

  it("accepts a Gitea push, told from GitHub by its own headers", () => {
    const body = giteaPush();
    const v = verifyWebhook(gitea(body), body, secrets);
    assert.equal(v.ok && v.source, "gitea");
    const e = pushOf(v);
    assert.equal(e.branch, "develop");
    assert.equal(e.pusher, "gitea");
    assert.equal(e.commits, 3);
    assert.deepEqual(e.repositories, ["http://localhost:3000/gitea/webhooks.git", "ssh://gitea@localhost:2222/gitea/webhooks.git", "gitea/webhooks"]);
  });

  it("accepts a GitLab push with the right token", () => {
    const body = gitlabPush();
    const v = verifyWebhook(gitlab(), body, secrets);
    assert.equal(v.ok && v.source, "gitlab");
    const e = pushOf(v);
    assert.equal(e.branch, "main");
    assert.equal(e.pusher, "jsmith");
    assert.equal(e.commits, 4);
    assert.ok(e.repositories.includes("http://example.com/mike/diaspora.git"));
    assert.ok(e.repositories.includes("mike/diaspora"));
  });

  it("accepts a generic push signed with HMAC-SHA256", () => {
    const body = json({ ref: "refs/heads/release/2", after, repository: "https://git.example.com/infra.git", pusher: "ci" });
    const v = verifyWebhook(generic(body), body, secrets);
    assert.equal(v.ok && v.source, "generic");
    assert.deepEqual(pushOf(v), { ref: "refs/heads/release/2", branch: "release/2", after, deleted: false, repositories: ["https://git.example.com/infra.git"], pusher: "ci" });
  });

  it("reads header names in any case and accepts a form-encoded GitHub payload", () => {
    const body = Buffer.from(`payload=${encodeURIComponent(githubPush().toString())}`);
    const headers = { "X-GitHub-Event": "push", "X-Hub-Signature-256": `sha256=${hmac(secrets.github ?? "", body).toUpperCase()}`, "Content-Type": "application/x-www-form-urlencoded" };
    assert.equal(pushOf(verifyWebhook(headers, body, secrets)).branch, "main");
  });

  const wrongSecret: [string, () => WebhookVerdict][] = [
    ["GitHub", () => { const b = githubPush(); return verifyWebhook(github(b, "push", "wrong-secret"), b, secrets); }],
    ["Gitea", () => { const b = giteaPush(); return verifyWebhook(gitea(b, "push", "wrong-secret"), b, secrets); }],
    ["generic", () => { const b = json({ ref: "refs/heads/main", after }); return verifyWebhook(generic(b, "wrong-secret"), b, secrets); }],
  ];
  for (const [name, run] of wrongSecret) {
    it(`refuses a ${name} signature made with another secret`, () => {
      rejected(run(), 401, /does not match the body signed with the configured secret/);
    });
  }

  it("refuses a tampered body", () => {
    const body = githubPush();
    const headers = github(body);
    const tampered = Buffer.from(body.toString().replace(after, "0".repeat(39) + "1"));
    rejected(verifyWebhook(headers, tampered, secrets), 401, /X-Hub-Signature-256 does not match/);
  });

  it("refuses a request without its signature header", () => {
    const body = githubPush();
    rejected(verifyWebhook({ "x-github-event": "push" }, body, secrets), 401, /^X-Hub-Signature-256 header is missing$/);
    rejected(verifyWebhook({ "x-gitea-event": "push" }, body, secrets), 401, /^X-Gitea-Signature header is missing$/);
    rejected(verifyWebhook({ "x-gitlab-event": "Push Hook" }, body, secrets), 401, /^X-Gitlab-Token header is missing$/);
    rejected(verifyWebhook({ "content-type": "application/json" }, body, secrets), 401, /not a recognised webhook/);
  });

  it("refuses a malformed or repeated signature", () => {
    const body = githubPush();
    rejected(verifyWebhook({ ...github(body), "x-hub-signature-256": hmac(secrets.github ?? "", body) }, body, secrets), 401, /malformed: expected sha256=/);
    rejected(verifyWebhook({ ...github(body), "x-hub-signature-256": "sha256=abc" }, body, secrets), 401, /malformed/);
    const sig = github(body)["x-hub-signature-256"] as string;
    rejected(verifyWebhook({ ...github(body), "x-hub-signature-256": [sig, sig] }, body, secrets), 401, /repeated/);
  });

  it("refuses a GitHub signature replayed under Gitea's header", () => {
    const body = giteaPush();
    const githubSig = hmac(secrets.github ?? "", body);
    const headers = { "x-gitea-event": "push", "x-github-event": "push", "x-gitea-signature": githubSig, "x-hub-signature-256": `sha256=${githubSig}` };
    rejected(verifyWebhook(headers, body, secrets), 401, /X-Gitea-Signature does not match/);
  });

  it("refuses a GitLab token that does not match, whatever its length", () => {
    const body = gitlabPush();
    rejected(verifyWebhook(gitlab("Push Hook", "gl-token-457"), body, secrets), 401, /X-Gitlab-Token does not match the configured token/);
    rejected(verifyWebhook(gitlab("Push Hook", "x"), body, secrets), 401, /does not match/);
    rejected(verifyWebhook(gitlab("Push Hook", `${secrets.gitlab ?? ""}-and-more`), body, secrets), 401, /does not match/);
  });

  it("refuses a source whose secret is not configured", () => {
    const body = githubPush();
    rejected(verifyWebhook(github(body), body, { gitlab: "t" }), 401, /^no secret configured for github webhooks$/);
    rejected(verifyWebhook(gitlab(), gitlabPush(), { github: "s", gitlab: "" }), 401, /^no secret configured for gitlab webhooks$/);
    rejected(verifyWebhook(generic(body, ""), body, {}), 401, /^no secret configured for generic webhooks$/);
  });

  it("accepts ping and other non-push events without an event", () => {
    const ping = json({ zen: "Keep it logically awesome.", hook_id: 1 });
    const v = verifyWebhook(github(ping, "ping"), ping, secrets);
    assert.deepEqual(v, { ok: true, source: "github", eventType: "ping", event: undefined, delivery: "1" });
    const issue = json({ action: "opened" });
    assert.deepEqual(verifyWebhook(gitea(issue, "issues"), issue, secrets), { ok: true, source: "gitea", eventType: "issues", event: undefined });
    // A merge request hook is parsed now (test/agent/pr-events.test.ts); a note is still just accepted.
    assert.deepEqual(verifyWebhook(gitlab("Note Hook"), json({ object_kind: "note" }), secrets), {
      ok: true, source: "gitlab", eventType: "Note Hook", event: undefined,
    });
    const system = json({ object_kind: "repository_update" });
    assert.deepEqual(verifyWebhook(gitlab("System Hook"), system, secrets), { ok: true, source: "gitlab", eventType: "System Hook", event: undefined });
    const genericPing = json({ hello: true });
    assert.deepEqual(verifyWebhook({ ...generic(genericPing), "x-gitward-event": "ping" }, genericPing, secrets), {
      ok: true, source: "generic", eventType: "ping", event: undefined,
    });
  });

  it("treats a GitLab system hook push as a push", () => {
    const v = verifyWebhook(gitlab("System Hook"), gitlabPush(), secrets);
    assert.equal(pushOf(v).branch, "main");
  });

  it("answers 400 for malformed JSON after a valid signature, 401 before one", () => {
    const bad = Buffer.from("{not json");
    rejected(verifyWebhook(github(bad), bad, secrets), 400, /^body is not valid JSON$/);
    rejected(verifyWebhook(gitlab(), bad, secrets), 400, /not valid JSON/);
    rejected(verifyWebhook(github(bad, "push", "wrong"), bad, secrets), 401, /does not match/);
    const array = Buffer.from("[1]");
    rejected(verifyWebhook(generic(array), array, secrets), 400, /not a JSON object/);
  });

  it("answers 400 for a push payload without a ref or a commit id", () => {
    const noRef = json({ after });
    rejected(verifyWebhook(github(noRef), noRef, secrets), 400, /github push payload: ref is missing/);
    const badAfter = json({ ref: "refs/heads/main", after: "main" });
    rejected(verifyWebhook(generic(badAfter), badAfter, secrets), 400, /after is not a commit id/);
    rejected(verifyWebhook({ "x-hub-signature-256": `sha256=${hmac(secrets.github ?? "", noRef)}` }, noRef, secrets), 400, /X-GitHub-Event header is missing/);
  });

  const branches: [string, string | undefined][] = [
    ["refs/heads/main", "main"],
    ["refs/heads/feature/x", "feature/x"],
    ["refs/tags/v1.2.0", undefined],
    ["refs/pull/12/head", undefined],
  ];
  for (const [ref, branch] of branches) {
    it(`takes the branch from ${ref}`, () => {
      const body = githubPush(ref);
      assert.equal(pushOf(verifyWebhook(github(body), body, secrets)).branch, branch);
    });
  }

  it("parses a GitLab tag push with no branch, and a deletion", () => {
    const tag = verifyWebhook(gitlab("Tag Push Hook"), gitlabPush("refs/tags/v2"), secrets);
    assert.equal(pushOf(tag).ref, "refs/tags/v2");
    assert.equal(pushOf(tag).branch, undefined);
    const gone = json({ ref: "refs/heads/old", before, after: "0".repeat(40) });
    assert.equal(pushOf(verifyWebhook(github(gone), gone, secrets)).deleted, true);
  });
});
