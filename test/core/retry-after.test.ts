import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { retryAfterMs } from "../../src/core/retry-after.ts";

describe("retryAfterMs", () => {
  const now = Date.parse("2026-12-06T12:00:00Z");
  it("reads delay seconds and HTTP dates, never negative, capped", () => {
    assert.equal(retryAfterMs("7", now), 7000);
    assert.equal(retryAfterMs(" 1.5 ", now), 1500);
    assert.equal(retryAfterMs("Sun, 06 Dec 2026 12:00:30 GMT", now), 30_000);
    assert.equal(retryAfterMs("Sun, 06 Dec 2026 11:59:00 GMT", now), 0);
    assert.equal(retryAfterMs("120", now, 60_000), 60_000);
  });
  it("is undefined when absent or unreadable", () => {
    for (const v of [null, undefined, "", "  ", "soon"]) assert.equal(retryAfterMs(v, now), undefined, String(v));
  });
});
