import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FakeApiServer } from "./fake-apiserver.ts";
import { startFakeApiServer } from "./fake-apiserver.ts";

// The test hooks of the fake: injected failures, an outage, and the request log.

const skip = process.env["GITWARD_TEST_KUBECONFIG"] !== undefined && process.env["GITWARD_TEST_KUBECONFIG"] !== "";

describe("fake API server faults and request log", { skip }, () => {
  let fake: FakeApiServer;
  const get = (path: string) => fetch(`${fake.url}${path}`, { headers: { Authorization: `Bearer ${fake.token}` } });
  const applyConfigMap = (name: string) =>
    fetch(`${fake.url}/api/v1/namespaces/default/configmaps/${name}?fieldManager=gitward`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${fake.token}`, "Content-Type": "application/apply-patch+yaml" },
      body: `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n`,
    });

  before(async () => {
    fake = await startFakeApiServer();
  });
  after(async () => {
    await fake.close();
  });

  it("answers the next requests 429 TooManyRequests with Retry-After, then recovers", async () => {
    fake.fault({ status: 429, retryAfterSeconds: 3, count: 2 });
    for (let i = 0; i < 2; i++) {
      const res = await get("/api/v1/namespaces");
      assert.equal(res.status, 429);
      assert.equal(res.headers.get("retry-after"), "3");
      assert.deepEqual(await res.json(), {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "Too many requests, please try again later.",
        reason: "TooManyRequests",
        details: { retryAfterSeconds: 3 },
        code: 429,
      });
    }
    assert.equal((await get("/api/v1/namespaces")).status, 200);
  });

  it("answers 500 InternalError and 503 ServiceUnavailable Status bodies", async () => {
    fake.fault({ status: 500 });
    fake.fault({ status: 503 });
    const internal = await get("/version");
    assert.equal(internal.status, 500);
    assert.equal(((await internal.json()) as { reason: string }).reason, "InternalError");
    const unavailable = await get("/version");
    assert.equal(unavailable.status, 503);
    assert.equal(((await unavailable.json()) as { reason: string }).reason, "ServiceUnavailable");
  });

  it("resets connections, and applies faults only to the requests they match", async () => {
    fake.fault({ kind: "reset", match: { method: "PATCH", path: "/api/v1/namespaces/default/configmaps/" } });
    assert.equal((await get("/api/v1/namespaces/default/configmaps")).status, 200);
    await assert.rejects(applyConfigMap("reset-me"), TypeError);
    assert.equal((await applyConfigMap("reset-me")).status, 201);
  });

  it("logs method, path, query and status of every request", async () => {
    fake.clearRequests();
    await applyConfigMap("logged");
    await get("/api/v1/namespaces/default/configmaps?labelSelector=a%3Db");
    assert.deepEqual(
      fake.requests.map(({ method, path, query, status }) => ({ method, path, query, status })),
      [
        { method: "PATCH", path: "/api/v1/namespaces/default/configmaps/logged", query: { fieldManager: "gitward" }, status: 201 },
        { method: "GET", path: "/api/v1/namespaces/default/configmaps", query: { labelSelector: "a=b" }, status: 200 },
      ],
    );
    assert.equal(fake.requests.filter((r) => r.method !== "GET").length, 1, "one write");
  });

  it("goes down and comes back up on the same port with its objects", async () => {
    await fake.down();
    await assert.rejects(get("/version"), TypeError);
    await fake.up();
    assert.equal((await get("/api/v1/namespaces/default/configmaps/logged")).status, 200);
  });

  it("drops faults that were not consumed", async () => {
    fake.fault({ status: 503, count: 5 });
    fake.clearFaults();
    assert.equal((await get("/version")).status, 200);
  });
});
