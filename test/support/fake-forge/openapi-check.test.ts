import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { conformanceFor } from "./openapi-check.ts";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const vendored = join(repoRoot, "test/fixtures/forge-api");
const shared = join(repoRoot, "../shared/forge-api");

const fixture = (path: string): unknown => JSON.parse(readFileSync(join(vendored, path), "utf8"));
/** A deep copy of a recorded body, to alter one field of it. */
const copy = <T>(v: T): T => structuredClone(v);
/** The value at a checker's message path (`body[0].head.sha`) in `body`. */
const valueAt = (body: unknown, path: string): unknown =>
  path.replace(/^body/, "").split(/\.|\[|\]/).filter((s) => s !== "")
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | null)?.[key], body);

type Examples = Record<string, { value: Record<string, unknown> }>;
// The trimmed description holds the same examples as the full one, at a fraction of the size.
const githubExamples = (fixture("github/openapi.trimmed.json") as { components: { examples: Examples } }).components.examples;

describe("conformance to GitHub's OpenAPI description", () => {
  const github = conformanceFor("github");
  const pull = "/repos/{owner}/{repo}/pulls/{pull_number}";
  const example = (name: string): Record<string, unknown> => copy(githubExamples[name]?.value ?? {});

  it("finds an operation by its template's shape, whatever the parameters are called", () => {
    assert.equal(github.operation("GET", pull), "pulls/get");
    assert.equal(github.operation("GET", "/repos/{o}/{r}/pulls/{n}"), "pulls/get");
    assert.equal(github.operation("PATCH", pull), "pulls/update");
    assert.equal(github.operation("PUT", pull), undefined);
    assert.equal(github.operation("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/nonsense"), undefined);
  });

  it("passes a valid request body and names what is wrong in another", () => {
    assert.deepEqual(github.request("PATCH", pull, {}, { title: "t", state: "closed" }), []);
    assert.deepEqual(github.request("PATCH", pull, {}, { title: 3, state: "merged" }), ["body.title: must be string", "body.state: must be one of open, closed"]);
    const comments = "/repos/{owner}/{repo}/issues/{issue_number}/comments";
    assert.deepEqual(github.request("POST", comments, {}, { body: "LGTM" }), []);
    assert.deepEqual(github.request("POST", comments, {}, {}), ["body.body: is required"]);
    assert.deepEqual(github.request("POST", comments, {}, undefined), ["body: is required"]);
    assert.deepEqual(github.request("GET", pull, {}, { title: "t" }), ["body: given, but the operation takes none"]);
  });

  it("checks declared query parameters and ignores unknown ones", () => {
    const list = "/repos/{owner}/{repo}/pulls";
    assert.deepEqual(github.request("GET", list, { state: "open", per_page: "100", page: "2", whatever: "x" }, undefined), []);
    assert.deepEqual(github.request("GET", list, { state: "opened", per_page: "many" }, undefined), [
      "query.state: must be one of open, closed, all",
      "query.per_page: must be integer",
    ]);
  });

  /** The description's pull request example, made whole: it predates the teams' required `type`. */
  const pullRequest = (): Record<string, unknown> => {
    const pr = example("pull-request");
    pr["requested_teams"] = (pr["requested_teams"] as object[]).map((t) => ({ ...t, type: "organization" }));
    return pr;
  };

  it("passes the description's own example response and reports a field of the wrong type", () => {
    assert.deepEqual(github.response("GET", pull, 200, example("pull-request")), ["body.requested_teams[0].type: is required"]);
    assert.deepEqual(github.response("GET", pull, 200, pullRequest()), []);
    const wrong = pullRequest();
    (wrong["head"] as Record<string, unknown>)["sha"] = 42;
    assert.deepEqual(github.response("GET", pull, 200, wrong), ["body.head.sha: must be string"]);
    assert.deepEqual(github.response("GET", `${pull}/reviews`, 200, githubExamples["pull-request-review-items"]?.value), []);
  });

  it("accepts null where a field is nullable, but still wants every required field", () => {
    const open = { ...pullRequest(), body: null, closed_at: null, merged_at: null, milestone: null, merged_by: null };
    assert.deepEqual(github.response("GET", pull, 200, open), []);
    assert.deepEqual(github.response("GET", pull, 200, { ...open, title: null }), ["body.title: must be string"]);
    const { body: _omitted, ...incomplete } = open;
    assert.deepEqual(github.response("GET", pull, 200, incomplete), ["body.body: is required"]);
  });

  it("reports a status the operation does not declare, but not an undeclared error", () => {
    assert.deepEqual(github.response("GET", pull, 201, pullRequest()), [
      "status 201 is not declared for GET /repos/{owner}/{repo}/pulls/{pull_number} (declared: 200, 304, 404, 406, 500, 503)",
    ]);
    assert.deepEqual(github.response("GET", pull, 401, { message: "Bad credentials" }), []);
    assert.deepEqual(github.response("GET", pull, 404, { message: 5 }), ["body.message: must be string"]);
    assert.deepEqual(github.response("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}", 204, { a: 1 }), ["body: status 204 has no body"]);
  });
});

describe("conformance to GitLab's OpenAPI description", () => {
  const gitlab = conformanceFor("gitlab");
  const notes = "/projects/{id}/merge_requests/{merge_request_iid}/notes";
  const mr = "/projects/{id}/merge_requests/{merge_request_iid}";
  const note = fixture("gitlab/responses/merge_request_note.json") as Record<string, unknown>;

  it("maps templates below /api/v4 onto the description's paths by shape", () => {
    assert.equal(gitlab.operation("GET", mr), "getApiV4ProjectsIdMergeRequestsMergeRequestIid");
    // The description calls this parameter {noteable_id}; the face may call it anything.
    assert.equal(gitlab.operation("POST", notes), "postApiV4ProjectsIdMergeRequestsNoteableIdNotes");
    assert.equal(gitlab.operation("GET", `/api/v4${mr}`), undefined);
  });

  it("checks request bodies and query parameters", () => {
    assert.deepEqual(gitlab.request("POST", notes, {}, { body: "LGTM" }), []);
    assert.deepEqual(gitlab.request("POST", notes, {}, {}), ["body.body: is required"]);
    assert.deepEqual(gitlab.request("POST", notes, {}, { body: 5 }), ["body.body: must be string or null"]);
    assert.deepEqual(gitlab.request("GET", "/projects/{id}/merge_requests", { state: "opened", page: "1", per_page: "20", x: "y" }, undefined), []);
    assert.deepEqual(gitlab.request("GET", "/projects/{id}/merge_requests", { state: "open", page: "first" }, undefined), [
      "query.state: must be one of opened, closed, locked, merged, all",
      "query.page: must be integer",
    ]);
  });

  it("accepts null where a field is nullable", () => {
    assert.deepEqual(gitlab.request("POST", notes, {}, { body: null }), []);
  });

  it("passes recorded notes and reports a field of the wrong type", () => {
    assert.deepEqual(gitlab.response("POST", notes, 201, note), []);
    assert.deepEqual(gitlab.response("GET", notes, 200, fixture("gitlab/responses/list_merge_request_notes.json")), []);
    assert.deepEqual(gitlab.response("POST", notes, 201, { ...note, author: { ...(note["author"] as object), id: "one" } }), ["body.author.id: must be integer"]);
  });

  it("reports an undeclared status", () => {
    assert.deepEqual(gitlab.response("POST", notes, 200, note), [
      "status 200 is not declared for POST /projects/{id}/merge_requests/{merge_request_iid}/notes (declared: 201, 400, 404)",
    ]);
    assert.deepEqual(gitlab.response("GET", mr, 401, { message: "401 Unauthorized" }), []);
  });

  it("finds the recorded merge request at odds with the description only where GitLab sends null, and in two types", () => {
    const recorded = fixture("gitlab/responses/get_merge_request.json");
    const problems = gitlab.response("GET", mr, 200, recorded);
    assert.ok(problems.includes("body.merged_at: must be string"), problems.join("\n"));
    assert.deepEqual(problems.filter((p) => valueAt(recorded, p.split(":")[0] ?? "") !== null), [
      "body.milestone.group_id: must be string",
      "body.head_pipeline.coverage: must be number",
    ]);
  });
});

describe("conformance to Gitea's Swagger description", () => {
  const gitea = conformanceFor("gitea");
  const pull = "/repos/{owner}/{repo}/pulls/{index}";
  const comments = "/repos/{owner}/{repo}/issues/{index}/comments";
  const comment = fixture("gitea/responses/issue_comment.json") as Record<string, unknown>;

  it("finds an operation by shape", () => {
    assert.equal(gitea.operation("GET", "/repos/{owner}/{repo}/pulls/{number}"), "repoGetPullRequest");
    assert.equal(gitea.operation("PATCH", pull), "repoEditPullRequest");
    assert.equal(gitea.operation("GET", `/api/v1${pull}`), undefined);
  });

  it("checks the in: body parameter and query parameters", () => {
    assert.deepEqual(gitea.request("POST", comments, {}, { body: "LGTM" }), []);
    assert.deepEqual(gitea.request("POST", comments, {}, {}), ["body.body: is required"]);
    assert.deepEqual(gitea.request("POST", comments, {}, { body: 5 }), ["body.body: must be string"]);
    assert.deepEqual(gitea.request("GET", "/repos/{owner}/{repo}/pulls", { state: "open", page: "1", limit: "50" }, undefined), []);
    assert.deepEqual(gitea.request("GET", "/repos/{owner}/{repo}/pulls", { state: "opened", page: "0" }, undefined), [
      "query.state: must be one of open, closed, all",
      "query.page: must be >= 1",
    ]);
  });

  it("passes recorded comments and statuses and reports a field of the wrong type", () => {
    assert.deepEqual(gitea.response("POST", comments, 201, comment), []);
    assert.deepEqual(gitea.response("GET", comments, 200, fixture("gitea/responses/list_issue_comments.json")), []);
    assert.deepEqual(gitea.response("POST", "/repos/{owner}/{repo}/statuses/{sha}", 201, fixture("gitea/responses/commit_status.json")), []);
    assert.deepEqual(gitea.response("POST", comments, 201, { ...comment, id: "seven" }), ["body.id: must be integer"]);
  });

  it("reports an undeclared status: Gitea answers an edited pull request with 201", () => {
    assert.deepEqual(gitea.response("PATCH", pull, 200, {}), [
      "status 200 is not declared for PATCH /repos/{owner}/{repo}/pulls/{index} (declared: 201, 403, 404, 409, 412, 422)",
    ]);
  });

  it("rejects null, which Swagger 2 cannot allow without x-nullable: the recorded pull request sends it", () => {
    const recorded = fixture("gitea/responses/get_pull_request.json");
    const problems = gitea.response("GET", pull, 200, recorded);
    assert.ok(problems.includes("body.merged_at: must be string"), problems.join("\n"));
    assert.deepEqual(problems.filter((p) => valueAt(recorded, p.split(":")[0] ?? "") !== null), []);
  });
});

describe("the forge API descriptions", () => {
  it("kept in test/fixtures are the shared ones, file for file", () => {
    const files = (dir: string): Map<string, string> => new Map(
      readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
        .map((e) => { const p = join(e.parentPath, e.name); return [relative(dir, p), readFileSync(p, "utf8")]; }),
    );
    const copyOf = files(vendored);
    assert.ok(copyOf.has("gitlab/openapi_v3.trimmed.json") && copyOf.has("gitea/swagger.full.json") && copyOf.size > 60, "the copy is complete");
    // Where shared/ is beside the checkout, the copy must not have drifted from it.
    if (existsSync(join(shared, "README.md"))) assert.deepEqual(copyOf, files(shared));
  });

  it("GitHub's is the @octokit/openapi version github/SOURCE.md names", () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, "node_modules/@octokit/openapi/package.json"), "utf8")) as { version: string };
    assert.equal(pkg.version, "23.0.2");
    assert.match(readFileSync(join(vendored, "github/SOURCE.md"), "utf8"), new RegExp(`version \\*\\*${pkg.version.replace(/\./g, "\\.")}\\*\\*`));
  });
});
