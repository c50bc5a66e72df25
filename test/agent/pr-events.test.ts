import assert from "node:assert/strict";
import { createHmac, randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  verifyWebhook, type PullRequestAction, type PullRequestEvent, type WebhookHeaders, type WebhookSecrets, type WebhookVerdict,
} from "../../src/agent/webhooks.ts";

const secrets: WebhookSecrets = { github: "gh-secret-123", gitlab: "gl-token-456", gitea: "gitea-secret-789", generic: "generic-secret-0" };
const hooksDir = fileURLToPath(new URL("../fixtures/forge-api/webhooks/", import.meta.url));
const examplesDir = fileURLToPath(new URL("../../node_modules/@octokit/webhooks-examples/", import.meta.url));

const hmac = (secret: string, body: Buffer): string => createHmac("sha256", secret).update(body).digest("hex");
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const fixture = (file: string): Record<string, unknown> => JSON.parse(readFileSync(hooksDir + file, "utf8")) as Record<string, unknown>;

const github = (body: Buffer, event: string, secret = secrets.github ?? ""): WebhookHeaders => ({
  "x-github-event": event, "x-github-delivery": randomUUID(), "x-hub-signature-256": `sha256=${hmac(secret, body)}`, "content-type": "application/json",
});
// As Gitea v1.23 sends them: its own headers, and GitHub's and Gogs' copies.
const gitea = (body: Buffer, event: string, type = event, secret = secrets.gitea ?? ""): WebhookHeaders => ({
  "x-gitea-event": event, "x-gitea-event-type": type, "x-gogs-event": event, "x-github-event": event, "x-github-event-type": type,
  "x-gitea-delivery": randomUUID(), "x-gitea-signature": hmac(secret, body), "x-hub-signature-256": `sha256=${hmac(secret, body)}`,
  "content-type": "application/json",
});
const gitlab = (event: string, token = secrets.gitlab ?? ""): WebhookHeaders => ({
  "x-gitlab-event": event, "x-gitlab-token": token, "x-gitlab-event-uuid": randomUUID(), "content-type": "application/json",
});

function accepted(v: WebhookVerdict): Extract<WebhookVerdict, { ok: true }> {
  assert.ok(v.ok, v.ok ? "" : `rejected ${v.status}: ${v.reason}`);
  return v;
}

function prOf(v: WebhookVerdict): PullRequestEvent {
  const a = accepted(v);
  assert.ok(a.pullRequest !== undefined, `expected a pull-request event from ${a.source} ${a.eventType}`);
  assert.equal(a.event, undefined, "a pull-request event is not a push");
  return a.pullRequest;
}

function rejected(v: WebhookVerdict, status: 400 | 401, reason: RegExp): void {
  assert.equal(v.ok, false, "expected a rejection");
  if (v.ok) return;
  assert.equal(v.status, status, v.reason);
  assert.match(v.reason, reason);
  for (const s of Object.values(secrets)) assert.ok(!v.reason.includes(s), "the reason never contains a secret");
}

interface IndexRow {
  readonly forge: string;
  readonly eventValue: string;
  readonly giteaType: string;
  readonly action: string;
  readonly file: string;
  readonly notes: string;
}

const indexRows: IndexRow[] = readFileSync(hooksDir + "INDEX.tsv", "utf8").trim().split("\n").slice(1).map((line) => {
  const [forge = "", , eventValue = "", giteaType = "", action = "", file = "", , notes = ""] = line.split("\t");
  return { forge, eventValue, giteaType, action, file, notes };
});

/** The action each row must parse to, from the INDEX's own description of it; "push" for pushes, undefined for neither. */
function expectedAction(row: IndexRow): PullRequestAction | "push" | undefined {
  if (row.eventValue === "push" || row.eventValue === "Push Hook") return "push";
  if (row.forge === "gitlab" && row.eventValue === "Merge Request Hook") {
    const gitlab: Record<string, PullRequestAction> = {
      open: "opened", approved: "approved", unapproved: "unapproved", merge: "merged", close: "closed", reopen: "reopened",
    };
    if (row.action === "update") return row.notes.includes("oldrev is set") ? "synchronized" : "edited";
    return gitlab[row.action];
  }
  if (row.forge === "gitea" && row.eventValue === "pull_request") {
    if (row.action === "closed merged=true") return "merged";
    if (row.action === "closed merged=false") return "closed";
    return (["opened", "edited", "synchronized", "reopened"] as const).find((a) => a === row.action);
  }
  const reviews: Record<string, PullRequestAction> = {
    pull_request_approved: "approved", pull_request_rejected: "changes_requested", pull_request_comment: "review_commented",
  };
  return row.forge === "gitea" && row.action.startsWith("reviewed ") ? reviews[row.eventValue] : undefined;
}

/** The number (GitLab: iid) in each payload, read from the files by hand. */
const expectedNumbers: Readonly<Record<string, number>> = {
  "gitlab/merge_request-open.json": 3, "gitlab/merge_request-open.go-gitlab.json": 1, "gitlab/merge_request-update-new-commits.json": 3,
  "gitlab/merge_request-update-edited.json": 3, "gitlab/merge_request-update-draft-to-ready.json": 3,
  "gitlab/merge_request-update-review-requested.json": 3, "gitlab/merge_request-approved.json": 3, "gitlab/merge_request-unapproved.json": 3,
  "gitlab/merge_request-merge.json": 4, "gitlab/merge_request-close.json": 4, "gitlab/merge_request-reopen.json": 1,
  "gitea/pull_request-opened.json": 2, "gitea/pull_request-opened.go-scm.json": 1, "gitea/pull_request-synchronized.json": 2,
  "gitea/pull_request-synchronized.go-scm.json": 1, "gitea/pull_request-edited.json": 1, "gitea/pull_request-closed.json": 1,
  "gitea/pull_request-closed-merged.json": 1, "gitea/pull_request-reopened.json": 1, "gitea/pull_request_approved-reviewed.json": 7,
  "gitea/pull_request_rejected-reviewed.json": 7, "gitea/pull_request_comment-reviewed.json": 7, "gitea/pull_request_comment-reviewed.go-playground.json": 2,
};

function send(row: IndexRow, body: Buffer): WebhookVerdict {
  const headers = row.forge === "gitlab" ? gitlab(row.eventValue) : gitea(body, row.eventValue, row.giteaType);
  return verifyWebhook(headers, body, secrets);
}

describe("pull-request webhooks from the GitLab and Gitea fixtures", () => {
  it("covers every fixture file, each listed once in INDEX.tsv", () => {
    const files = ["gitlab", "gitea"].flatMap((d) => readdirSync(hooksDir + d).filter((f) => f.endsWith(".json")).map((f) => `${d}/${f}`));
    assert.deepEqual(indexRows.map((r) => r.file).sort(), files.sort());
    assert.equal(Object.keys(expectedNumbers).length, indexRows.filter((r) => !["push", undefined].includes(expectedAction(r))).length);
  });

  for (const row of indexRows) {
    const expected = expectedAction(row);
    it(`${row.file} (${row.eventValue}, ${row.action}) parses to ${expected ?? "no event"}`, () => {
      const v = accepted(send(row, readFileSync(hooksDir + row.file)));
      if (expected === "push") {
        assert.ok(v.event !== undefined, "a push");
        assert.equal(v.pullRequest, undefined);
      } else if (expected === undefined) {
        assert.deepEqual([v.event, v.pullRequest], [undefined, undefined]);
      } else {
        const pr = prOf(v);
        assert.equal(pr.action, expected);
        assert.equal(pr.number, expectedNumbers[row.file]);
        assert.ok(pr.repositories.length > 0, "names its repository");
      }
    });
  }

  it("reads a GitLab merge request's commit, branches, labels and who acted", () => {
    const body = readFileSync(hooksDir + "gitlab/merge_request-update-new-commits.json");
    assert.deepEqual(prOf(verifyWebhook(gitlab("Merge Request Hook"), body, secrets)), {
      action: "synchronized", number: 3, headSha: "c136499ec574e1034b24c5d306de9acda3005367",
      headBranch: "anbraten-main-patch-05373", baseBranch: "main", author: "anbraten", sender: "anbraten", labels: [],
      repositories: [
        "https://gitlab.com/anbraten/woodpecker.git", "git@gitlab.com:anbraten/woodpecker.git", "https://gitlab.com/anbraten/woodpecker",
        "anbraten/woodpecker",
      ],
    });
    // The author is named only by id: when someone else acts, the author stays unknown.
    const reopen = prOf(send({ forge: "gitlab", eventValue: "Merge Request Hook", giteaType: "", action: "", file: "", notes: "" },
      readFileSync(hooksDir + "gitlab/merge_request-reopen.json")));
    assert.equal(reopen.author, undefined);
    assert.equal(reopen.sender, "real6543");
    assert.deepEqual(reopen.labels, ["documentation"]);
  });

  it("reads a Gitea pull request's commit, branches, labels, author and sender", () => {
    const body = readFileSync(hooksDir + "gitea/pull_request-synchronized.json");
    assert.deepEqual(prOf(verifyWebhook(gitea(body, "pull_request", "pull_request_sync"), body, secrets)), {
      action: "synchronized", number: 2, headSha: "788ed8d02d3b7fcfcf6386dbcbca696aa1d4dc25", headBranch: "test-patch-1", baseBranch: "main",
      author: "test", sender: "test", labels: ["Kind/Bug", "Kind/Security"],
      repositories: [
        "http://127.0.0.1:3000/Test-CI/multi-line-secrets.git", "ssh://git@127.0.0.1:2200/Test-CI/multi-line-secrets.git",
        "http://127.0.0.1:3000/Test-CI/multi-line-secrets", "http://127.0.0.1:3000/api/v1/repos/Test-CI/multi-line-secrets",
        "Test-CI/multi-line-secrets",
      ],
    });
    const approved = readFileSync(hooksDir + "gitea/pull_request_approved-reviewed.json");
    const review = prOf(verifyWebhook(gitea(approved, "pull_request_approved", "pull_request_review_approved"), approved, secrets));
    assert.deepEqual([review.author, review.sender], ["jony", "a_nice_user"], "the reviewer is the sender, not the author");
  });

  it("maps GitLab label changes, one-user approvals and merge requests in system hooks", () => {
    const base = fixture("gitlab/merge_request-open.go-gitlab.json");
    const update = (labels: { previous: string[]; current: string[] }): Buffer => json({
      ...base, object_attributes: { ...(base["object_attributes"] as object), action: "update" },
      changes: { labels: { previous: labels.previous.map((title) => ({ title })), current: labels.current.map((title) => ({ title })) } },
    });
    const hook = (body: Buffer, event = "Merge Request Hook"): PullRequestEvent => prOf(verifyWebhook(gitlab(event), body, secrets));
    assert.equal(hook(update({ previous: ["API"], current: ["API", "preview"] })).action, "labeled");
    assert.equal(hook(update({ previous: ["API", "preview"], current: ["API"] })).action, "unlabeled");
    assert.equal(hook(update({ previous: ["API"], current: ["API"] })).action, "edited");
    const withAction = (action: string): Buffer => json({ ...base, object_attributes: { ...(base["object_attributes"] as object), action } });
    assert.equal(hook(withAction("approval")).action, "approved");
    assert.equal(hook(withAction("unapproval")).action, "unapproved");
    assert.equal(hook(withAction("open"), "System Hook").number, 1);
    assert.deepEqual(accepted(verifyWebhook(gitlab("Merge Request Hook"), withAction("some_future_action"), secrets)).pullRequest, undefined);
  });

  it("maps Gitea label updates and clears, and ignores a review action that is not `reviewed`", () => {
    const base = fixture("gitea/pull_request-opened.json");
    const hook = (action: string, event = "pull_request"): WebhookVerdict => {
      const body = json({ ...base, action });
      return verifyWebhook(gitea(body, event), body, secrets);
    };
    assert.equal(prOf(hook("label_updated")).action, "labeled");
    assert.equal(prOf(hook("label_cleared")).action, "unlabeled");
    assert.equal(accepted(hook("assigned")).pullRequest, undefined);
    assert.equal(accepted(hook("opened", "pull_request_approved")).pullRequest, undefined);
  });
});

interface GitHubExample {
  readonly action: string;
  readonly pull_request: { readonly number: number; readonly merged?: boolean | null };
  readonly review?: { readonly state: string };
}

const githubExpected = (event: string, e: GitHubExample): PullRequestAction | undefined => {
  if (event === "pull_request") {
    const table: Record<string, PullRequestAction> = {
      opened: "opened", synchronize: "synchronized", reopened: "reopened", labeled: "labeled", unlabeled: "unlabeled",
      edited: "edited", ready_for_review: "edited", closed: e.pull_request.merged === true ? "merged" : "closed",
    };
    return table[e.action];
  }
  if (e.action === "dismissed") return "review_dismissed";
  const states: Record<string, PullRequestAction> = { approved: "approved", changes_requested: "changes_requested", commented: "review_commented" };
  return e.action === "submitted" ? states[e.review?.state ?? ""] : undefined;
};

describe("pull-request webhooks from @octokit/webhooks-examples", () => {
  const examples = readdirSync(examplesDir).filter((d) => d === "api.github.com" || d.startsWith("ghes-")).flatMap((dir) => {
    const index = JSON.parse(readFileSync(`${examplesDir}${dir}/index.json`, "utf8")) as { name: string; examples: GitHubExample[] }[];
    return index.filter((e) => e.name === "pull_request" || e.name === "pull_request_review")
      .flatMap((e) => e.examples.map((example, i) => ({ dir, event: e.name, i, example })));
  });

  it("finds the examples (api.github.com has 29 pull_request and 4 pull_request_review)", () => {
    assert.equal(examples.filter((e) => e.dir === "api.github.com").length, 33);
  });

  for (const { dir, event, i, example } of examples) {
    const expected = githubExpected(event, example);
    it(`${dir} ${event} #${i} ${example.action}${example.review === undefined ? "" : ` (${example.review.state})`} → ${expected ?? "no event"}`, () => {
      const body = json(example);
      const v = accepted(verifyWebhook(github(body, event), body, secrets));
      if (expected === undefined) return assert.equal(v.pullRequest, undefined);
      const pr = prOf(v);
      assert.equal(pr.action, expected);
      assert.equal(pr.number, example.pull_request.number);
      assert.equal(pr.number, 2, "every example in v7 is about pull request 2");
      assert.ok(pr.repositories.includes("Codertocat/Hello-World"), "names its repository");
    });
  }

  it("maps approvals and change requests, and reads the reviewer as sender", () => {
    const commented = examples.find((e) => e.event === "pull_request_review" && e.example.action === "submitted");
    assert.ok(commented !== undefined);
    const review = (state: string, action = "submitted"): WebhookVerdict => {
      const base = commented.example as unknown as Record<string, unknown>;
      const body = json({ ...base, action, review: { ...(base["review"] as object), state, user: { login: "reviewer-1" } } });
      return verifyWebhook(github(body, "pull_request_review"), body, secrets);
    };
    assert.deepEqual([prOf(review("approved")).action, prOf(review("approved")).sender], ["approved", "reviewer-1"]);
    assert.equal(prOf(review("changes_requested")).action, "changes_requested");
    assert.equal(accepted(review("approved", "edited")).pullRequest, undefined);
    // The examples have no merge: a merge is `closed` with `pull_request.merged`.
    const closed = examples.find((e) => e.event === "pull_request" && e.example.action === "closed");
    assert.ok(closed !== undefined);
    const merged = json({ ...closed.example, pull_request: { ...closed.example.pull_request, merged: true } });
    const pr = prOf(verifyWebhook(github(merged, "pull_request"), merged, secrets));
    assert.deepEqual([pr.action, pr.headSha, pr.headBranch, pr.baseBranch, pr.author], [
      "merged", "ec26c3e57ca3a959ca5aad62de7213c562f8c821", "changes", "master", "Codertocat",
    ]);
  });
});

describe("pull-request webhooks are verified as pushes are", () => {
  const opened = fixture("gitea/pull_request-opened.json");
  const body = json(opened);

  it("refuses a signature made with another secret, a tampered body and a wrong GitLab token", () => {
    rejected(verifyWebhook(github(body, "pull_request", "not-the-secret"), body, secrets), 401, /X-Hub-Signature-256 does not match/);
    rejected(verifyWebhook(gitea(body, "pull_request", "pull_request", "not-the-secret"), body, secrets), 401, /X-Gitea-Signature does not match/);
    const tampered = json({ ...opened, number: 3 });
    rejected(verifyWebhook(gitea(body, "pull_request"), tampered, secrets), 401, /does not match/);
    const mr = readFileSync(hooksDir + "gitlab/merge_request-approved.json");
    rejected(verifyWebhook(gitlab("Merge Request Hook", "gl-token-457"), mr, secrets), 401, /X-Gitlab-Token does not match/);
  });

  it("refuses repeated signature, event and delivery headers", () => {
    const h = github(body, "pull_request");
    rejected(verifyWebhook({ ...h, "x-hub-signature-256": [String(h["x-hub-signature-256"]), "sha256=00"] }, body, secrets), 401, /X-Hub-Signature-256 header is repeated/);
    rejected(verifyWebhook({ ...h, "x-github-event": ["pull_request", "pull_request"] }, body, secrets), 400, /X-GitHub-Event header is repeated/);
    const g = gitea(body, "pull_request");
    rejected(verifyWebhook({ ...g, "x-gitea-event": ["pull_request", "push"] }, body, secrets), 400, /X-Gitea-Event header is repeated/);
    rejected(verifyWebhook({ ...g, "x-gitea-delivery": ["a", "b"] }, body, secrets), 400, /X-Gitea-Delivery header is repeated/);
  });

  it("keeps the delivery id beside the event", () => {
    const h = github(body, "pull_request");
    assert.equal(accepted(verifyWebhook(h, body, secrets)).delivery, h["x-github-delivery"]);
  });

  it("answers 400 for a pull request without its number, from every forge", () => {
    const { number: _n, pull_request: pr, ...rest } = opened;
    const { number: _m, ...prRest } = pr as Record<string, unknown>;
    const numberless = json({ ...rest, pull_request: prRest });
    rejected(verifyWebhook(github(numberless, "pull_request"), numberless, secrets), 400,
      /^github pull_request payload: the pull request number is missing or not a positive integer \(number, pull_request\.number\)$/);
    rejected(verifyWebhook(gitea(numberless, "pull_request"), numberless, secrets), 400, /^gitea pull_request payload: the pull request number is missing/);
    const stringly = json({ ...opened, number: "2", pull_request: { ...prRest, number: "2" } });
    rejected(verifyWebhook(github(stringly, "pull_request"), stringly, secrets), 400, /number is missing or not a positive integer/);
    const mr = fixture("gitlab/merge_request-open.json");
    const { iid: _i, ...attributes } = mr["object_attributes"] as Record<string, unknown>;
    rejected(verifyWebhook(gitlab("Merge Request Hook"), json({ ...mr, object_attributes: attributes }), secrets), 400,
      /^gitlab Merge Request Hook payload: the pull request number is missing or not a positive integer \(object_attributes\.iid\)$/);
  });

  it("answers 400 for a pull-request event without its action or pull request", () => {
    const { action: _a, ...actionless } = opened;
    rejected(verifyWebhook(github(json(actionless), "pull_request"), json(actionless), secrets), 400, /^github pull_request payload: action: /);
    const { pull_request: _p, ...prless } = opened;
    rejected(verifyWebhook(gitea(json(prless), "pull_request"), json(prless), secrets), 400, /^gitea pull_request payload: pull_request: /);
    rejected(verifyWebhook(gitlab("Merge Request Hook"), json({ object_kind: "merge_request" }), secrets), 400, /object_attributes: /);
  });

  it("accepts a number-less payload whose action gitward ignores, and gives generic sources no pull-request events", () => {
    const assigned = json({ action: "assigned", pull_request: {} });
    const v = accepted(verifyWebhook(github(assigned, "pull_request"), assigned, secrets));
    assert.deepEqual([v.eventType, v.event, v.pullRequest], ["pull_request", undefined, undefined]);
    const signed = { "x-gitward-signature": `sha256=${hmac(secrets.generic ?? "", body)}`, "x-gitward-event": "pull_request" };
    assert.deepEqual(verifyWebhook(signed, body, secrets), { ok: true, source: "generic", eventType: "pull_request", event: undefined });
  });
});
