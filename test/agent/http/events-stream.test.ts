import assert from "node:assert/strict";
import { request, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { bearer, liveFiles, startLiveApi, type LiveApi } from "./live-api-support.ts";

interface Frame { id?: number; event?: string; data?: Record<string, unknown>; comment?: string }

/** A client of the event stream over a real connection, parsing frames as they come. */
class SseClient {
  readonly frames: Frame[] = [];
  res!: IncomingMessage;
  ended = false;
  #buf = "";

  static open(port: number, headers: Record<string, string>): Promise<SseClient> {
    const c = new SseClient();
    return new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: "/api/v1/events", headers }, (res) => {
        c.res = res;
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => c.#take(chunk));
        res.on("end", () => (c.ended = true));
        res.on("close", () => (c.ended = true));
        resolve(c);
      });
      req.on("error", reject);
      req.end();
    });
  }

  #take(chunk: string): void {
    this.#buf += chunk;
    for (let i = this.#buf.indexOf("\n\n"); i >= 0; i = this.#buf.indexOf("\n\n")) {
      const block = this.#buf.slice(0, i);
      this.#buf = this.#buf.slice(i + 2);
      const f: Frame = {};
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) f.comment = line.slice(1).trim();
        else if (line.startsWith("id: ")) f.id = Number(line.slice(4));
        else if (line.startsWith("event: ")) f.event = line.slice(7);
        else if (line.startsWith("data: ")) f.data = JSON.parse(line.slice(6)) as Record<string, unknown>;
      }
      this.frames.push(f);
    }
  }

  events(): Frame[] {
    return this.frames.filter((f) => f.event !== undefined);
  }

  close(): void {
    this.res.destroy();
  }
}

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("GET /api/v1/events over HTTP", () => {
  let api: LiveApi;
  let port: number;

  before(async () => {
    api = await startLiveApi(liveFiles("v1"));
    await api.app.listen({ host: "127.0.0.1", port: 0 });
    port = (api.app.server.address() as AddressInfo).port;
  });
  after(() => api.close());

  it("streams a sync's events as text/event-stream, counted as a client", async () => {
    const c = await SseClient.open(port, bearer("tok-viewer"));
    try {
      assert.equal(c.res.statusCode, 200);
      assert.match(String(c.res.headers["content-type"]), /^text\/event-stream/);
      await until("the client to be counted", () => api.h.agent.events.size === 1);
      assert.equal((await api.metrics.sseClients.get()).values[0]?.value, 1);
      const sha = api.h.repo.commit(liveFiles("v2"), "v2");
      await api.h.agent.trigger({ kind: "webhook" });
      await api.h.agent.idle(false);
      await until("the sync events", () => c.events().filter((f) => f.event === "sync" && f.data?.["outcome"] === "succeeded").length === 2);
      const syncs = c.events().filter((f) => f.event === "sync");
      assert.deepEqual(syncs.map((f) => [f.data?.["environment"], f.data?.["outcome"], f.data?.["revision"]]).sort(), [
        ["dev", "running", sha], ["dev", "succeeded", sha], ["prod", "running", sha], ["prod", "succeeded", sha],
      ]);
      const ids = c.events().map((f) => f.id ?? 0);
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b), "ids increase");
    } finally {
      c.close();
    }
    await until("the client to be uncounted", () => api.h.agent.events.size === 0);
    assert.equal((await api.metrics.sseClients.get()).values[0]?.value, 0);
  });

  it("resumes after Last-Event-ID from the ring, and sends only the environments the caller reads", async () => {
    const kept = api.h.agent.events.since(0);
    const firstProd = kept.find((e) => e.data.environment === "prod");
    assert.ok(firstProd !== undefined && kept.length >= 4);
    const resumeAfter = kept[1]?.id ?? 0;
    const all = await SseClient.open(port, { ...bearer("tok-viewer"), "last-event-id": String(resumeAfter) });
    const prodOnly = await SseClient.open(port, { ...bearer("tok-prod"), "last-event-id": "0" });
    try {
      await until("the replay", () => all.events().length === kept.length - 2 && prodOnly.events().length > 0);
      assert.deepEqual(all.events().map((f) => f.id), kept.slice(2).map((e) => e.id));
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(prodOnly.events().every((f) => f.data?.["environment"] === "prod"), "no dev event reaches a prod-only viewer");
      assert.deepEqual(prodOnly.events().map((f) => f.id), kept.filter((e) => e.data.environment === "prod").map((e) => e.id));
    } finally {
      all.close();
      prodOnly.close();
    }
  });

  it("refuses a caller without credentials (401)", async () => {
    const c = await SseClient.open(port, {});
    try {
      assert.equal(c.res.statusCode, 401);
    } finally {
      c.close();
    }
  });

  it("drops a client that does not read, without holding the agent, and keeps the others", async () => {
    const slow = await SseClient.open(port, bearer("tok-viewer"));
    const fast = await SseClient.open(port, bearer("tok-viewer"));
    slow.res.pause();
    await until("both counted", () => api.h.agent.events.size === 2);
    const start = fast.events().length;
    const big = "x".repeat(20_000);
    // Far more than the socket buffers and the subscriber's queue hold, spread over time as
    // events come; publishing itself never waits for a client.
    let publishMs = 0;
    for (let batch = 0; batch < 40; batch++) {
      const t0 = performance.now();
      for (let i = 0; i < 50; i++) api.h.agent.events.publish({ type: "status", data: { environment: "dev", stack: `${big}${batch * 50 + i}` } });
      publishMs += performance.now() - t0;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(publishMs < 2000, `publishing took ${publishMs} ms`);
    await until("the slow client dropped", () => api.h.agent.events.size === 1, 10_000);
    await until("the fast one to have them all", () => fast.events().length - start === 2000, 10_000);
    slow.res.resume();
    await until("the slow connection ended", () => slow.ended, 10_000);
    fast.close();
  });

  it("ends every stream when the agent stops", async () => {
    const c = await SseClient.open(port, bearer("tok-viewer"));
    await until("counted", () => api.h.agent.events.size === 1);
    await api.h.agent.stop();
    await until("the stream ended", () => c.ended);
  });
});
