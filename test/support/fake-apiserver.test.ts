import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FakeApiServer, RecordedExchange } from "./fake-apiserver.ts";
import { listExchanges, readExchange, readRecordedBytes, recordingsRoot, startFakeApiServer } from "./fake-apiserver.ts";
import { sharedRecordings, vendoredRecordings } from "./fake-apiserver/recordings.ts";

// The fake is checked against the recordings themselves: every recorded request is replayed
// and the answer must equal the recorded one, so the fake cannot drift from the real server.

const noRightsToken = "no-rights-token";
const noRightsUser = "system:serviceaccount:gitward-errors:no-rights";

const plainCases = [
  ...(await listExchanges("01-discovery")),
  ...(await listExchanges("01-discovery/all-group-versions")),
  ...(await listExchanges("02-openapi")),
  "04-errors/70-bad-token-401.json",
  "04-errors/71-no-token-anonymous-403.json",
  "04-errors/73-no-rbac-list-configmaps-403.json",
  "04-errors/74-no-rbac-get-configmap-403.json",
  "04-errors/75-no-rbac-apply-configmap-403.json",
  "04-errors/76-no-rbac-get-cluster-scoped-namespace-403.json",
  "04-errors/77-no-rbac-discovery-api-v1-200.json",
];
const crdCases = [
  "05-crd/04-get-apis-gitward.example.com-v1-discovery.json",
  "05-crd/05-get-apis-gitward.example.com-group.json",
  "05-crd/25-get-apis-after-crd-established.json",
];
// Headers whose value must match the recording; the rest (dates, uids) only need to be present.
const exactHeaders = ["content-type", "cache-control", "content-length", "transfer-encoding", "etag", "last-modified", "vary", "accept-ranges"];
const presentHeaders = ["audit-id", "x-content-type-options", "x-kubernetes-pf-flowschema-uid", "x-kubernetes-pf-prioritylevel-uid"];

// Fake-only: skipped when the suite runs against a real cluster.
const skip = process.env["GITWARD_TEST_KUBECONFIG"] !== undefined && process.env["GITWARD_TEST_KUBECONFIG"] !== "";

describe("fake API server replays the recordings", { skip }, () => {
  let plain: FakeApiServer;
  let withCrd: FakeApiServer;
  const users = [{ token: noRightsToken, name: noRightsUser }];
  before(async () => {
    plain = await startFakeApiServer({ users });
    withCrd = await startFakeApiServer({ users, withWidgetCrd: true });
  });
  after(async () => {
    await plain.close();
    await withCrd.close();
  });

  for (const file of plainCases) it(file, async () => assertReplays(plain, await readExchange(file)));
  for (const file of crdCases) it(`${file} (with the Widget CRD)`, async () => assertReplays(withCrd, await readExchange(file)));

  it("answers a CRD group's unserved version with the text 404", async () => {
    const res = await fetch(`${withCrd.url}/apis/gitward.example.com/v2`, { headers: { Authorization: `Bearer ${withCrd.token}` } });
    assert.equal(res.status, 404);
    assert.equal(await res.text(), "404 page not found\n");
  });

  it("records the requests it received", async () => {
    const before = plain.requests.length;
    await fetch(`${plain.url}/version`);
    assert.deepEqual(plain.requests.at(before), { method: "GET", url: "/version", path: "/version", query: {}, user: "system:anonymous", status: 200 });
  });
});

describe("recordings", () => {
  it("are found beside the checkout", () => {
    assert.match(recordingsRoot(), /kubernetes-api\/$/);
  });

  it("kept in test/fixtures are the shared recordings, file for file", () => {
    const files = (dir: string): Map<string, string> => new Map(
      readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
        .map((e) => { const p = join(e.parentPath, e.name); return [relative(dir, p), readFileSync(p, "utf8")]; }),
    );
    const vendored = files(vendoredRecordings);
    assert.ok(vendored.size > 200, "the copy is complete");
    // Where shared/ is beside the checkout, the copy must not have drifted from it.
    if (existsSync(join(sharedRecordings, "README.md"))) assert.deepEqual(vendored, files(sharedRecordings));
  });

  it("name the missing directory clearly", () => {
    const saved = process.env["GITWARD_RECORDINGS_DIR"];
    process.env["GITWARD_RECORDINGS_DIR"] = "/nonexistent/recordings";
    try {
      assert.throws(() => recordingsRoot(), /recordings not found at \/nonexistent\/recordings/);
    } finally {
      if (saved === undefined) delete process.env["GITWARD_RECORDINGS_DIR"];
      else process.env["GITWARD_RECORDINGS_DIR"] = saved;
    }
  });
});

async function assertReplays(fake: FakeApiServer, exchange: RecordedExchange): Promise<void> {
  const { request, response } = exchange;
  const res = await fetch(`${fake.url}${request.url}`, {
    method: request.method,
    headers: replayHeaders(fake, request.headers),
    ...(request.body === undefined ? {} : { body: typeof request.body === "string" ? request.body : JSON.stringify(request.body) }),
  });
  assert.equal(res.status, response.status, "status");
  for (const name of exactHeaders) assert.equal(res.headers.get(name) ?? undefined, response.headers[name], `header ${name}`);
  for (const name of presentHeaders) assert.equal(res.headers.has(name), name in response.headers, `header ${name} present`);
  const bytes = Buffer.from(await res.arrayBuffer());
  const body = response.body;
  if (isBodyFile(body)) assert.ok(bytes.equals(await readRecordedBytes(`02-openapi/${body.$bodyFile}`)), "body bytes");
  else if (typeof body === "string") assert.equal(bytes.toString("utf8"), body);
  else assert.deepEqual(JSON.parse(bytes.toString("utf8")), body);
}

/** The recorded headers with each redacted credential replaced by the fake's equivalent. */
function replayHeaders(fake: FakeApiServer, recorded: Readonly<Record<string, string>>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(recorded)) {
    if (name.toLowerCase() !== "authorization") headers[name] = value;
    else if (value.includes("admin token")) headers[name] = `Bearer ${fake.token}`;
    else if (value.includes("no-rights")) headers[name] = `Bearer ${noRightsToken}`;
    else headers[name] = "Bearer not-a-valid-token";
  }
  return headers;
}

function isBodyFile(body: unknown): body is { $bodyFile: string } {
  return typeof body === "object" && body !== null && typeof (body as { $bodyFile?: unknown }).$bodyFile === "string";
}
