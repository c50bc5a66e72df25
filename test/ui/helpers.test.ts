// The UI's pure helpers: commit links, event → query invalidation, drift sentences, approvals,
// routes, the overview grid and the diff viewer's line pairing.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { commitUrl, repositoryWebUrl, shortSha } from "../../ui/src/commit-link.ts";
import { parseUnified, sideBySide } from "../../ui/src/diff-lines.ts";
import { atTime, driftSentence, driftSentences } from "../../ui/src/drift-text.ts";
import { invalidationsFor, mergeInvalidations, parseEvent } from "../../ui/src/events.ts";
import { approvalsFromDetail, detailWithoutApprovals, formatDuration } from "../../ui/src/format.ts";
import { buildGrid } from "../../ui/src/overview-model.ts";
import { parseRoute, routeHash } from "../../ui/src/route.ts";
import type { Stack } from "../../ui/src/types.ts";

const sha = "0123456789abcdef0123456789abcdef01234567";

describe("commit links", () => {
  const cases: [string, string | undefined][] = [
    ["https://github.com/acme/infra.git", `https://github.com/acme/infra/commit/${sha}`],
    ["https://github.com/acme/infra", `https://github.com/acme/infra/commit/${sha}`],
    ["https://gitlab.com/group/sub/infra.git/", `https://gitlab.com/group/sub/infra/commit/${sha}`],
    ["https://git.example.com:8443/acme/infra", `https://git.example.com:8443/acme/infra/commit/${sha}`],
    ["git@github.com:acme/infra.git", `https://github.com/acme/infra/commit/${sha}`],
    ["ssh://git@gitlab.com/acme/infra.git", `https://gitlab.com/acme/infra/commit/${sha}`],
    // The user info of a URL (a token) never reaches the link.
    ["https://x-access-token:ghs_secret@github.com/acme/infra.git", `https://github.com/acme/infra/commit/${sha}`],
    ["git@git.internal:acme/infra.git", undefined],
    ["/srv/git/infra.git", undefined],
    ["file:///srv/git/infra.git", undefined],
    ["http://github.com/acme/infra", undefined],
    ["https://github.com/acme", undefined],
  ];
  for (const [repo, want] of cases) {
    it(`${repo} → ${want ?? "no link"}`, () => {
      assert.equal(commitUrl(repo, sha), want);
    });
  }

  it("no link without a repository or for a revision that is not a SHA", () => {
    assert.equal(commitUrl(undefined, sha), undefined);
    assert.equal(commitUrl("https://github.com/acme/infra", "main"), undefined);
    assert.equal(commitUrl("https://github.com/acme/infra", "../../evil"), undefined);
  });

  it("the web URL keeps no credential and shortSha shows 7 characters", () => {
    assert.equal(repositoryWebUrl("https://user:pw@gitlab.com/a/b.git"), "https://gitlab.com/a/b");
    assert.equal(shortSha(sha), "0123456");
    assert.equal(shortSha(undefined), "-");
  });
});

describe("event stream → query invalidation", () => {
  const keysOf = (type: string, data: object) => {
    const e = parseEvent(type, JSON.stringify(data));
    assert.ok(e !== undefined, `${type} parses`);
    return invalidationsFor(e).map((k) => JSON.stringify(k));
  };

  it("a sync refreshes the overview, the stack, its history and the audit log", () => {
    const k = keysOf("sync", { environment: "prod", stack: "web", id: "7", revision: sha, outcome: "succeeded", at: "2026-01-01T00:00:00Z" });
    for (const want of [["stacks"], ["environments"], ["stack", "prod", "web"], ["history", "prod", "web"], ["audit"]]) {
      assert.ok(k.includes(JSON.stringify(want)), `${JSON.stringify(want)} in ${k.join(" ")}`);
    }
    assert.ok(!k.some((x) => x.startsWith('["drift"')), "a sync does not refresh drift lists");
  });

  it("drift refreshes the stack (detail and diff) and its drift list, not its history", () => {
    const k = keysOf("drift", { environment: "dev", stack: "api", objects: 2, corrected: false, at: "2026-01-01T00:00:00Z" });
    assert.ok(k.includes(JSON.stringify(["stack", "dev", "api"])));
    assert.ok(k.includes(JSON.stringify(["drift", "dev", "api"])));
    assert.ok(!k.some((x) => x.startsWith('["history"')));
  });

  it("a gate event refreshes every stack of its environment and the gate", () => {
    const k = keysOf("gate", { environment: "prod", revision: sha, gate: { state: "held", reasons: ["needs approval"] } });
    assert.ok(k.includes(JSON.stringify(["stack", "prod"])));
    assert.ok(k.includes(JSON.stringify(["gate"])));
  });

  it("status refreshes the stack and the overview only", () => {
    assert.deepEqual(keysOf("status", { environment: "dev", stack: "web" }).sort(), [JSON.stringify(["environments"]), JSON.stringify(["stack", "dev", "web"]), JSON.stringify(["stacks"])].sort());
  });

  it("unknown types and malformed data are ignored", () => {
    assert.equal(parseEvent("ping", "{}"), undefined);
    assert.equal(parseEvent("sync", "not json"), undefined);
    assert.equal(parseEvent("sync", JSON.stringify({ stack: "web" })), undefined);
    assert.equal(parseEvent("status", "null"), undefined);
  });

  it("a burst merges to unique keys, dropping those a shorter key already covers", () => {
    const burst = ["web", "api", "web"].flatMap((stack) => invalidationsFor({ type: "status", environment: "dev", stack }))
      .concat(invalidationsFor({ type: "gate", environment: "dev" }));
    const merged = mergeInvalidations(burst).map((k) => JSON.stringify(k)).sort();
    assert.deepEqual(merged, [["audit"], ["environments"], ["gate"], ["stack", "dev"], ["stacks"]].map((k) => JSON.stringify(k)).sort());
  });
});

describe("drift sentences", () => {
  const now = new Date("2026-03-02T15:00:00Z");
  const style = { now, timeZone: "UTC" };

  it("names the field, the writer and the time of day", () => {
    assert.equal(driftSentence({ field: "spec.replicas", manager: "kubectl-scale", time: "2026-03-02T12:03:10Z" }, style), "spec.replicas changed by kubectl-scale at 12:03");
  });

  it("adds the date when it is not today, and reads in the given zone", () => {
    assert.equal(driftSentence({ field: "data.key", manager: "kubectl-edit", time: "2026-02-27T23:30:00Z" }, style), "data.key changed by kubectl-edit on 2026-02-27 at 23:30");
    assert.equal(atTime("2026-03-02T23:30:00Z", { now, timeZone: "Europe/Paris" }), "on 2026-03-03 at 00:30");
  });

  it("without a writer or a time it says what it knows", () => {
    assert.equal(driftSentence({ field: "spec.template" }, style), "spec.template changed outside gitward");
    assert.equal(driftSentence({ field: "x", manager: "m", time: "garbage" }, style), "x changed by m");
    assert.deepEqual(driftSentences({ fields: [], detectedAt: "2026-03-02T14:00:00Z" }, style), ["changed outside gitward (found at 14:00)"]);
  });
});

describe("history formatting", () => {
  it("reads approvers from the trigger detail the agent writes", () => {
    const detail = "github push 0123456789ab; approved: #42 by alice, bob; #43 by carol";
    assert.deepEqual(approvalsFromDetail(detail), [{ ref: "#42", approvers: ["alice", "bob"] }, { ref: "#43", approvers: ["carol"] }]);
    assert.equal(detailWithoutApprovals(detail), "github push 0123456789ab");
    assert.deepEqual(approvalsFromDetail("API"), []);
    assert.equal(detailWithoutApprovals("approved: !7 by dan"), undefined);
  });

  it("formats durations for people", () => {
    assert.equal(formatDuration(850), "850 ms");
    assert.equal(formatDuration(4200), "4.2 s");
    assert.equal(formatDuration(185_000), "3 min 5 s");
    assert.equal(formatDuration(undefined), "-");
  });
});

describe("routes", () => {
  it("round-trips every page", () => {
    for (const r of [
      { page: "overview" }, { page: "overview", environment: "prod", state: "failed", q: "web" }, { page: "stack", environment: "prod", stack: "web-api" },
      { page: "audit" }, { page: "tokens" }, { page: "login" },
    ] as const) {
      assert.deepEqual(parseRoute(routeHash(r)), r);
    }
  });

  it("anything else is not found, never a crash", () => {
    assert.equal(parseRoute("#/stacks/prod").page, "not-found");
    assert.equal(parseRoute("#/stacks/%E0%A4%A/x").page, "not-found");
    assert.equal(parseRoute("").page, "overview");
  });
});

describe("overview grid", () => {
  const stack = (environment: string, name: string, over: Partial<Stack> = {}): Stack => ({
    environment, stack: name, target: "t", inSync: true, drift: 0, queued: false, gate: { state: "open", reasons: [] }, current: sha, ...over,
  });
  const stacks = [
    stack("dev", "web"), stack("prod", "web", { inSync: false }), stack("dev", "api", { drift: 2 }), stack("prod", "db", { lastSync: { id: "1", outcome: "failed", at: "", revision: sha } }),
  ];

  it("rows per stack name, columns per environment in the given order, gaps where a stack is absent", () => {
    const g = buildGrid(["prod", "dev"], stacks, {});
    assert.deepEqual(g.environments, ["prod", "dev"]);
    assert.deepEqual(g.rows.map((r) => r.stack), ["api", "db", "web"]);
    assert.deepEqual(g.rows.map((r) => r.cells.map((c) => c?.environment ?? null)), [[null, "dev"], ["prod", null], ["prod", "dev"]]);
  });

  it("filters by environment, state and search", () => {
    assert.deepEqual(buildGrid(["dev", "prod"], stacks, { state: "drifted" }).rows.map((r) => r.stack), ["api"]);
    assert.deepEqual(buildGrid(["dev", "prod"], stacks, { state: "failed" }).rows.map((r) => r.stack), ["db"]);
    assert.deepEqual(buildGrid(["dev", "prod"], stacks, { state: "out-of-sync", environment: "dev" }).rows, []);
    assert.deepEqual(buildGrid(["dev", "prod"], stacks, { q: " WE " }).rows.map((r) => r.stack), ["web"]);
    assert.deepEqual(buildGrid(["dev", "prod"], stacks, { environment: "prod" }).environments, ["prod"]);
  });

  it("builds 1,000 stacks in 3 environments quickly", () => {
    const many = ["dev", "staging", "prod"].flatMap((e) => Array.from({ length: 1000 }, (_, i) => stack(e, `s${String(i).padStart(4, "0")}`)));
    const t = performance.now();
    const g = buildGrid(["dev", "staging", "prod"], many, { q: "s0" });
    assert.equal(g.rows.length, 1000);
    assert.ok(performance.now() - t < 200, "under 200 ms");
  });
});

describe("diff lines", () => {
  const diff = "--- live\n+++ desired\n@@ -1,3 +1,3 @@\n kind: Deployment\n-replicas: 2\n+replicas: 3\n+paused: false\n image: web:1\n";

  it("numbers lines from the hunk header", () => {
    const lines = parseUnified(diff);
    assert.deepEqual(lines.map((l) => [l.kind, l.old ?? null, l.new ?? null]), [
      ["meta", null, null], ["meta", null, null], ["hunk", null, null], ["ctx", 1, 1], ["del", 2, null], ["add", null, 2], ["add", null, 3], ["ctx", 3, 4],
    ]);
  });

  it("pairs removals with the additions after them side by side", () => {
    const rows = sideBySide(parseUnified(diff));
    assert.deepEqual(rows.map((r) => r.kind === "hunk" ? "hunk" : `${r.left?.text ?? "·"} | ${r.right?.text ?? "·"}`), [
      "hunk", "kind: Deployment | kind: Deployment", "replicas: 2 | replicas: 3", "· | paused: false", "image: web:1 | image: web:1",
    ]);
  });
});
