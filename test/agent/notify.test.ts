import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { agentConfigSchema } from "../../src/agent/config.ts";
import { agentLogger } from "../../src/agent/logger.ts";
import { notificationTargets, Notifier, type NotificationEvent, type NotificationTarget } from "../../src/agent/notify.ts";
import { verifyWebhook } from "../../src/agent/webhooks.ts";
import { systemClock, type Clock } from "../../src/core/clock.ts";
import { FakeClock } from "../support/fake-clock.ts";

interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** What the receiver answers to the next request; when none is left, 200 "ok" (as Slack does). */
type Answer = (res: ServerResponse) => void;

/** A real HTTP receiver on 127.0.0.1 recording every request. */
class Receiver {
  readonly requests: Received[] = [];
  readonly answers: Answer[] = [];
  #server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      this.requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) });
      const answer = this.answers.shift() ?? ((r: ServerResponse) => r.writeHead(200, { "content-type": "text/plain" }).end("ok"));
      answer(res);
    });
  });
  port = 0;

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
    this.port = (this.#server.address() as AddressInfo).port;
    return this;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  json(i: number): Record<string, unknown> {
    const r = this.requests[i];
    assert.ok(r, `request ${i} was received`);
    return JSON.parse(r.body.toString("utf8")) as Record<string, unknown>;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** A pino logger (the agent's, with its redaction) writing JSON lines to memory. */
function memoryLogger(): { logger: ReturnType<typeof agentLogger>; lines: () => Record<string, unknown>[]; text: () => string } {
  let out = "";
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString("utf8");
      done();
    },
  });
  const logger = agentLogger({ level: "debug", destination, pretty: false });
  return {
    logger,
    text: () => out,
    lines: () => out.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

const secret = "hmac-key-7f3a9c21";
const slackPath = "/services/T0001/B0002/XXXXXXXXXXXXXXXXXXXXXXXX";
const failed: NotificationEvent = {
  kind: "sync-failed",
  environment: "prod",
  stack: "web",
  revision: "abc1234def5678",
  message: "prod/web: sync of abc1234 failed: Deployment/web/api: apply failed (Invalid): spec.selector: required",
  url: "https://gitward.example.com",
  details: { attempt: 3, objects: ["Deployment/web/api"] },
};

function notifier(targets: NotificationTarget[], extra: { maxQueue?: number; retries?: number; clock?: Clock } = {}) {
  const log = memoryLogger();
  const clock = new FakeClock();
  const n = new Notifier({ targets, logger: log.logger, clock, ...extra });
  return { n, log, clock };
}

describe("Notifier", () => {
  let rx: Receiver;
  before(async () => {
    rx = await new Receiver().start();
  });
  after(async () => {
    await rx.close();
  });
  const reset = (): void => {
    rx.requests.length = 0;
    rx.answers.length = 0;
  };

  it("posts the generic payload with its headers, signed so that the agent's own webhook check accepts it", async () => {
    reset();
    const { n, clock } = notifier([{ kind: "webhook", url: rx.url("/hooks/gitward"), secret, events: ["sync-failed"] }]);
    n.notify(failed);
    await n.flush();
    assert.equal(rx.requests.length, 1);
    const req = rx.requests[0];
    assert.ok(req);
    assert.equal(req.method, "POST");
    assert.equal(req.path, "/hooks/gitward");
    assert.equal(req.headers["content-type"], "application/json");
    assert.equal(req.headers["x-gitward-event"], "sync-failed");
    assert.match(String(req.headers["x-gitward-delivery"]), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.deepEqual(rx.json(0), {
      event: "sync-failed", environment: "prod", stack: "web", revision: "abc1234def5678", message: failed.message,
      url: "https://gitward.example.com", details: { attempt: 3, objects: ["Deployment/web/api"] }, at: clock.date().toISOString(), agent: "gitward",
    });
    const expected = createHmac("sha256", secret).update(req.body).digest("hex");
    assert.equal(req.headers["x-gitward-signature"], `sha256=${expected}`);

    const verdict = verifyWebhook(req.headers, req.body, { generic: secret });
    assert.ok(verdict.ok, verdict.ok ? "" : verdict.reason);
    assert.equal(verdict.source, "generic");
    assert.equal(verdict.eventType, "sync-failed");
    assert.equal(verdict.delivery, req.headers["x-gitward-delivery"]);
    const forged = verifyWebhook(req.headers, req.body, { generic: "another-secret" });
    assert.equal(forged.ok, false);
  });

  it("leaves the signature out without a secret, and the optional fields out when the event has none", async () => {
    reset();
    const { n } = notifier([{ kind: "webhook", url: rx.url("/plain"), events: ["drift"] }]);
    n.notify({ kind: "drift", environment: "staging", message: "staging/db: 2 objects drifted" });
    await n.flush();
    assert.equal(rx.requests[0]?.headers["x-gitward-signature"], undefined);
    assert.deepEqual(Object.keys(rx.json(0)).sort(), ["agent", "at", "environment", "event", "message"]);
  });

  it("posts Slack's text form, escaping the markup characters, with no gitward headers", async () => {
    reset();
    const { n } = notifier([{ kind: "slack", url: rx.url(slackPath), events: ["sync-failed", "gate-waiting"] }]);
    n.notify({ ...failed, message: "prod/web: check <!channel> & co failed" });
    n.notify({ kind: "gate-waiting", environment: "prod", message: "prod: abc1234 waits for approval" });
    await n.flush();
    assert.equal(rx.requests.length, 2);
    assert.deepEqual(rx.json(0), { text: ":x: *gitward* prod/web: check &lt;!channel&gt; &amp; co failed https://gitward.example.com" });
    assert.deepEqual(rx.json(1), { text: ":hourglass_flowing_sand: *gitward* prod: abc1234 waits for approval" });
    assert.equal(rx.requests[0]?.headers["content-type"], "application/json");
    assert.equal(rx.requests[0]?.headers["x-gitward-signature"], undefined);
    assert.equal(rx.requests[0]?.headers["x-gitward-event"], undefined);
  });

  it("sends each event only to the targets subscribed to its kind", async () => {
    reset();
    const { n } = notifier([
      { kind: "webhook", url: rx.url("/a"), events: ["sync-failed"] },
      { kind: "webhook", url: rx.url("/b"), events: ["drift", "gate-waiting"] },
    ]);
    n.notify(failed);
    n.notify({ kind: "drift", environment: "prod", message: "drift" });
    n.notify({ kind: "gate-waiting", environment: "prod", message: "gate" });
    await n.flush();
    assert.deepEqual(rx.requests.map((r) => `${r.path} ${String(r.headers["x-gitward-event"])}`), ["/a sync-failed", "/b drift", "/b gate-waiting"]);
  });

  it("retries after a 503 and honours Retry-After, keeping the delivery id", async () => {
    reset();
    rx.answers.push((res) => res.writeHead(503, { "retry-after": "7" }).end("busy"));
    const { n, log, clock } = notifier([{ kind: "webhook", url: rx.url("/retry"), secret, events: ["sync-failed"] }]);
    n.notify(failed);
    await n.flush();
    assert.equal(rx.requests.length, 2);
    assert.deepEqual(rx.requests[0]?.body, rx.requests[1]?.body);
    assert.equal(rx.requests[0]?.headers["x-gitward-delivery"], rx.requests[1]?.headers["x-gitward-delivery"]);
    assert.deepEqual(clock.sleeps, [7000]);
    assert.equal(log.lines().filter((l) => l["level"] === 40).length, 0, "a delivered retry is not a failure");
  });

  it("caps Retry-After at 30 s and backs off on 429 and 5xx, giving up after the retries with one log line", async () => {
    reset();
    rx.answers.push(
      (res) => res.writeHead(429, { "retry-after": "3600" }).end(),
      (res) => res.writeHead(500).end(),
      (res) => res.writeHead(502).end("bad gateway"),
    );
    const { n, log, clock } = notifier([{ kind: "webhook", url: rx.url("/busy"), events: ["sync-failed"] }]);
    n.notify(failed);
    await n.flush();
    assert.equal(rx.requests.length, 3);
    assert.deepEqual(clock.sleeps, [30_000, 2_000]);
    const warnings = log.lines().filter((l) => l["level"] === 40);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.["reason"], "HTTP 502: bad gateway");
    assert.equal(warnings[0]?.["attempts"], 3);
  });

  it("does not retry a 400, and logs it once with the target's kind and host only", async () => {
    reset();
    rx.answers.push((res) => res.writeHead(400, { "content-type": "text/plain" }).end("invalid_payload"));
    const { n, log } = notifier([{ kind: "slack", url: rx.url(slackPath), events: ["sync-failed"] }]);
    n.notify(failed);
    await n.flush();
    assert.equal(rx.requests.length, 1);
    const warnings = log.lines().filter((l) => l["level"] === 40);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.["target"], "slack");
    assert.equal(warnings[0]?.["host"], `127.0.0.1:${rx.port}`);
    assert.equal(warnings[0]?.["reason"], "HTTP 400: invalid_payload");
    assert.ok(!log.text().includes("XXXXXXXXXXXX"), "the Slack URL's token is never logged");
  });

  it("logs a receiver that is down without throwing, and flush still resolves", async () => {
    const down = await new Receiver().start();
    const url = down.url("/private/path-token-123456");
    await down.close();
    const { n, log, clock } = notifier([{ kind: "webhook", url, secret, events: ["sync-failed"] }]);
    assert.doesNotThrow(() => n.notify(failed));
    await n.flush();
    assert.deepEqual(clock.sleeps, [1000, 2000]);
    const warnings = log.lines().filter((l) => l["level"] === 40);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.["reason"], "ECONNREFUSED");
    assert.ok(!log.text().includes("path-token-123456"), "no URL path in the logs");
    assert.ok(!log.text().includes(secret), "no secret in the logs");
    await n.close();
  });

  it("gives up a request that gets no answer within timeoutMs, and retries it", async () => {
    reset();
    rx.answers.push(() => undefined, () => undefined);
    const log = memoryLogger();
    const clock = new FakeClock();
    const n = new Notifier({ targets: [{ kind: "webhook", url: rx.url("/slow"), events: ["drift"] }], logger: log.logger, clock, timeoutMs: 2000, retries: 1 });
    n.notify({ kind: "drift", environment: "prod", message: "slow" });
    await waitFor(() => rx.requests.length === 1);
    await clock.advance(2000);
    await waitFor(() => rx.requests.length === 2);
    // FakeClock.advance ends at its own end even when a backoff sleep moved time past it: go well beyond.
    await clock.advance(10_000);
    await n.flush();
    const warnings = log.lines().filter((l) => l["level"] === 40);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.["reason"], "no answer within 2000 ms");
    assert.equal(warnings[0]?.["attempts"], 2);
  });

  it("keeps at most maxQueue deliveries, dropping the oldest with one warning", async () => {
    reset();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    rx.answers.push((res) => void held.then(() => res.writeHead(200).end("ok")));
    const { n, log } = notifier([{ kind: "webhook", url: rx.url("/q"), events: ["drift"] }], { maxQueue: 3 });
    for (let i = 1; i <= 6; i++) n.notify({ kind: "drift", environment: "prod", message: `drift ${i}` });
    // The first is in flight, 2 and 3 were pushed out by 5 and 6.
    await waitFor(() => rx.requests.length === 1);
    release();
    await n.flush();
    assert.deepEqual(rx.requests.map((_, i) => rx.json(i)["message"]), ["drift 1", "drift 4", "drift 5", "drift 6"]);
    const warnings = log.lines().filter((l) => l["level"] === 40);
    assert.equal(warnings.length, 1);
    assert.match(String(warnings[0]?.["msg"]), /queue full/);
  });

  it("never sends a target's URL or secret, even when an event quotes them", async () => {
    reset();
    const hookUrl = rx.url(slackPath);
    const { n } = notifier([
      { kind: "webhook", url: rx.url("/generic"), secret, events: ["sync-failed"] },
      { kind: "slack", url: hookUrl, events: ["sync-failed"] },
    ]);
    n.notify({ ...failed, message: `curl ${hookUrl} failed; key ${secret}`, details: { echoed: `path ${slackPath}`, nested: [{ s: secret }] } });
    await n.flush();
    assert.equal(rx.requests.length, 2);
    for (const r of rx.requests) {
      const body = r.body.toString("utf8");
      assert.ok(!body.includes(secret), body);
      assert.ok(!body.includes(slackPath), body);
    }
    assert.equal(rx.json(0)["message"], "curl *** failed; key ***");
  });

  it("after close, drops what is queued and ignores new events", async () => {
    reset();
    rx.answers.push(() => undefined); // never answers: the request stays in flight
    // The real clock: the grace period has to pass while a request hangs.
    const { n, log } = notifier([{ kind: "webhook", url: rx.url("/hang"), events: ["drift"] }], { clock: systemClock() });
    n.notify({ kind: "drift", environment: "prod", message: "one" });
    n.notify({ kind: "drift", environment: "prod", message: "two" });
    await waitFor(() => rx.requests.length === 1);
    await Promise.race([n.close(50), rejectAfter(5000, "close did not return")]);
    n.notify({ kind: "drift", environment: "prod", message: "three" });
    await n.flush();
    assert.equal(rx.requests.length, 1);
    assert.ok(log.lines().some((l) => l["msg"] === "notifier closed before every notification was sent" && l["dropped"] === 1));
  });
});

describe("notificationTargets", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "gitward-notify-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const config = (notifications: unknown) => agentConfigSchema.parse({ notifications }).notifications;

  it("reads URLs and secrets from environment variables and files", async () => {
    process.env["GITWARD_TEST_SLACK_URL"] = "https://hooks.slack.com/services/T1/B2/abc";
    await writeFile(join(dir, "hmac"), "file-secret-42\n");
    await writeFile(join(dir, "url"), "https://ci.example.com/gitward\n");
    const targets = await notificationTargets(config([
      { kind: "slack", url: { env: "GITWARD_TEST_SLACK_URL" }, events: ["drift"] },
      { kind: "webhook", url: { file: join(dir, "url") }, secret: { file: join(dir, "hmac") } },
    ]));
    assert.deepEqual(targets, [
      { kind: "slack", url: "https://hooks.slack.com/services/T1/B2/abc", events: ["drift"] },
      { kind: "webhook", url: "https://ci.example.com/gitward", secret: "file-secret-42", events: ["sync-failed", "drift", "gate-waiting"] },
    ]);
    delete process.env["GITWARD_TEST_SLACK_URL"];
  });

  it("fails clearly when an environment variable is missing", async () => {
    delete process.env["GITWARD_TEST_MISSING"];
    await assert.rejects(
      notificationTargets(config([{ kind: "webhook", url: { env: "GITWARD_TEST_MISSING" } }])),
      /environment variable GITWARD_TEST_MISSING .* is not set/,
    );
  });

  it("refuses a value that is not an http(s) URL without quoting it, and a secret on a Slack target", async () => {
    process.env["GITWARD_TEST_BAD_URL"] = "ftp://files.example.com/very-secret-token";
    await assert.rejects(notificationTargets(config([{ kind: "webhook", url: { env: "GITWARD_TEST_BAD_URL" } }])), (err: Error) => {
      assert.match(err.message, /notifications\[0\]\.url: the value of environment variable GITWARD_TEST_BAD_URL is not an http\(s\) URL/);
      assert.ok(!err.message.includes("very-secret-token"));
      return true;
    });
    process.env["GITWARD_TEST_BAD_URL"] = "https://hooks.slack.com/services/x";
    await assert.rejects(
      notificationTargets(config([{ kind: "slack", url: { env: "GITWARD_TEST_BAD_URL" }, secret: { env: "GITWARD_TEST_BAD_URL" } }])),
      /notifications\[0\]\.secret: a slack notification is not signed/,
    );
    delete process.env["GITWARD_TEST_BAD_URL"];
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

function rejectAfter(ms: number, why: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(why)), ms).unref());
}
