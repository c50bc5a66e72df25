import type { RecordedExchange } from "./recordings.ts";
import type { FakeApiServer } from "./server.ts";
import type { JsonObject } from "./values.ts";
import { deepEqual, isObject } from "./values.ts";

/** A request the replay sends that the recordings do not hold (a step they took without saving it). */
export interface ExtraRequest {
  readonly method: string;
  readonly url: string;
  readonly contentType?: string;
  readonly body?: string;
}

/** What the fake answered. */
export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const timestamp = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
// Service addresses come from an allocator: like uids, one fake address per recorded one.
const serviceIp = /^10\.96\.\d{1,3}\.\d{1,3}$/;

/**
 * Replays recorded exchanges against a fake in order and compares the answers with the recorded
 * ones: status, Status bodies exactly, and objects structurally. Values the fake cannot share
 * with the recording are checked for consistency instead of equality: uids and Service cluster
 * IPs (one fake value per recorded one), resourceVersions (they change exactly when the recorded ones change) and
 * managedFields times (they change when the recorded ones change, and not without a write).
 */
export class ReplaySession {
  private readonly fake: FakeApiServer;
  private readonly uids = new Map<string, string>();
  private readonly fakeUids = new Map<string, string>();
  private readonly rvs = new Map<string, string>();
  private readonly continues = new Map<string, string>();
  private readonly lastRv = new Map<string, { recorded: string; actual: string }>();
  private readonly lastTime = new Map<string, { recorded: string; actual: string }>();
  private problems: string[] = [];
  private writeRecorded = false;
  private dryRun = false;

  constructor(fake: FakeApiServer) {
    this.fake = fake;
  }

  /** Sends a request the recordings do not hold. */
  async send(extra: ExtraRequest): Promise<Answer> {
    const headers: Record<string, string> = { Accept: "application/json", Authorization: `Bearer ${this.fake.token}`, "User-Agent": "" };
    if (extra.contentType !== undefined) headers["Content-Type"] = extra.contentType;
    const res = await fetch(`${this.fake.url}${extra.url}`, { method: extra.method, headers, ...(extra.body === undefined ? {} : { body: extra.body }) });
    return { status: res.status, headers: res.headers, text: await res.text() };
  }

  /** Replays one recorded exchange; returns the differences found (empty when faithful). */
  async replay(exchange: RecordedExchange): Promise<{ problems: string[]; answer: Answer }> {
    const { request, response } = exchange;
    // The recording client sent no User-Agent (fetch would send "node"); an empty one counts as none.
    const headers: Record<string, string> = { "user-agent": "" };
    for (const [name, value] of Object.entries(request.headers)) {
      headers[name.toLowerCase()] = name.toLowerCase() === "authorization" ? `Bearer ${this.fake.token}` : value;
    }
    const body = request.body === undefined ? undefined : this.translate(typeof request.body === "string" ? request.body : JSON.stringify(request.body));
    const res = await fetch(`${this.fake.url}${this.translate(request.url)}`, { method: request.method, headers, ...(body === undefined ? {} : { body }) });
    const answer = { status: res.status, headers: res.headers, text: await res.text() };
    this.problems = [];
    this.dryRun = request.url.includes("dryRun=All");
    this.compareHeaders(response.headers, res.headers);
    const warning = response.headers["warning"];
    if ((res.headers.get("warning") ?? undefined) !== warning) this.problems.push(`warning header: expected ${warning}, got ${res.headers.get("warning")}`);
    if (answer.status !== response.status) this.problems.push(`status: expected ${response.status}, got ${answer.status}: ${answer.text.slice(0, 400)}`);
    else this.compareBodies(response.body, answer);
    return { problems: this.problems, answer };
  }

  /**
   * Starts a recorded watch (its URL adjusted by `adjust`, e.g. a shorter timeout); the returned
   * function waits for the stream to end and compares its events with the recorded ones.
   */
  async watch(exchange: RecordedExchange, adjust: (url: string) => string): Promise<() => Promise<string[]>> {
    const headers = { Accept: "application/json", Authorization: `Bearer ${this.fake.token}` };
    const res = await fetch(`${this.fake.url}${adjust(this.translate(exchange.request.url))}`, { headers });
    const text = res.text();
    return async () => {
      const lines = (await text).split("\n").filter((l) => l !== "");
      const recorded = (exchange.response as { events?: unknown }).events;
      this.problems = [];
      this.dryRun = false;
      if (res.status !== exchange.response.status) this.problems.push(`status: expected ${exchange.response.status}, got ${res.status}`);
      this.compareEvents(Array.isArray(recorded) ? recorded.filter(isObject) : [], lines);
      return this.problems;
    };
  }

  private compareEvents(recorded: readonly JsonObject[], lines: readonly string[]): void {
    const actual = lines.map((l) => JSON.parse(l) as JsonObject);
    const types = (events: readonly JsonObject[]) => events.map((e) => String(e["type"])).join(",");
    if (types(recorded) !== types(actual)) return void this.problems.push(`events: expected ${types(recorded)}, got ${types(actual)}`);
    recorded.forEach((event, i) => {
      const twin = actual[i]?.["object"];
      const expected = event["type"] === "ERROR" ? withoutNumbers(event["object"]) : this.normalize(event["object"], twin, "");
      const got = event["type"] === "ERROR" ? withoutNumbers(twin) : this.normalize(twin, undefined, "");
      if (!deepEqual(expected, got)) this.problems.push(`event ${i} (${String(event["type"])}) differs at ${firstDifference(expected, got, "")}`);
    });
  }

  // Recorded uids, resourceVersions and continue tokens in a request, replaced by the fake's.
  private translate(text: string): string {
    let out = text;
    for (const [recorded, actual] of this.uids) out = out.replaceAll(recorded, actual);
    for (const [recorded, actual] of this.continues) out = out.replaceAll(recorded, actual);
    out = out.replace(/([?&]resourceVersion=)(\d+)/g, (m, prefix: string, rv: string) => {
      const actual = this.rvs.get(rv);
      return actual === undefined ? m : `${prefix}${actual}`;
    });
    return out.replace(/"resourceVersion":\s*"(\d+)"/g, (m, rv: string) => {
      const actual = this.rvs.get(rv);
      return actual === undefined ? m : `"resourceVersion": "${actual}"`;
    });
  }

  // Headers every answer carries as recorded; dates, ids and lengths only need to be present.
  private compareHeaders(recorded: Readonly<Record<string, string>>, actual: Headers): void {
    for (const name of ["content-type", "cache-control", "x-content-type-options"]) {
      if ((actual.get(name) ?? undefined) !== recorded[name]) this.problems.push(`header ${name}: expected ${recorded[name]}, got ${actual.get(name)}`);
    }
    for (const name of ["audit-id", "x-kubernetes-pf-flowschema-uid", "x-kubernetes-pf-prioritylevel-uid"]) {
      if (actual.has(name) !== name in recorded) this.problems.push(`header ${name}: ${name in recorded ? "missing" : "unexpected"}`);
    }
  }

  private compareBodies(recorded: unknown, answer: Answer): void {
    if (typeof recorded === "string" || recorded === undefined) {
      if ((recorded ?? "") !== answer.text) this.problems.push(`body: expected ${JSON.stringify(recorded)}, got ${JSON.stringify(answer.text)}`);
      return;
    }
    let actual: unknown;
    try {
      actual = JSON.parse(answer.text);
    } catch {
      this.problems.push(`body: not JSON: ${answer.text.slice(0, 200)}`);
      return;
    }
    this.writeRecorded = false;
    const exp = this.normalize(recorded, actual, "");
    const got = this.normalize(actual, undefined, "");
    if (!deepEqual(exp, got)) this.problems.push(`body differs at ${firstDifference(exp, got, "")}`);
  }

  /**
   * Normalizes a body for comparison. Called with the recorded body and its fake counterpart
   * (`other`), it also checks and learns the uid/resourceVersion/time correspondences.
   */
  private normalize(value: unknown, other: unknown, path: string, identity = ""): unknown {
    if (Array.isArray(value)) {
      const others = Array.isArray(other) ? other : [];
      return value.map((item, i) => this.normalize(item, others[i], `${path}[${i}]`, identity));
    }
    if (isObject(value)) return this.normalizeObject(value, isObject(other) ? other : undefined, path, identity);
    if (typeof value !== "string") return value;
    if (uuid.test(value) || serviceIp.test(value)) return other === undefined ? `<uid:${this.fakeUids.get(value) ?? value}>` : `<uid:${this.matchUid(value, other)}>`;
    if (timestamp.test(value)) return "<time>";
    // uids inside messages: the fake's are written as the recorded ones they stand for.
    const text = other === undefined ? value.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (u) => this.fakeUids.get(u) ?? u) : value;
    return text.replace(/0x[0-9a-f]+/g, "0x…").replace(/((?:ReplicaSet|replica set) \\?"[a-z0-9-]+?)-[a-z0-9]{8,10}(\\?")/g, "$1-<hash>$2");
  }

  private normalizeObject(value: JsonObject, other: JsonObject | undefined, path: string, outer: string): JsonObject {
    const meta = isObject(value["metadata"]) ? value["metadata"] : undefined;
    const kind = typeof value["kind"] === "string" ? value["kind"] : outer;
    const namespace = typeof meta?.["namespace"] === "string" ? meta["namespace"] : "";
    const identity = typeof meta?.["name"] === "string" ? `${kind}/${namespace}/${meta["name"]}` : outer;
    const out: JsonObject = {};
    for (const [key, child] of Object.entries(value)) {
      const twin = other?.[key];
      if (key === "resourceVersion" && typeof child === "string") {
        if (other !== undefined && identity !== "" && path.endsWith("metadata")) this.matchRv(identity, child, twin);
        else if (other !== undefined && typeof twin === "string" && !this.rvs.has(child)) this.rvs.set(child, twin);
        out[key] = "<rv>";
      } else if (key === "continue" && typeof child === "string" && child !== "") {
        if (typeof twin === "string") this.continues.set(child, twin);
        out[key] = `<continue:${continueStart(child)}>`;
      } else if (key === "managedFields" && Array.isArray(child)) {
        out[key] = this.normalizeManagedFields(child, Array.isArray(twin) ? twin : undefined, identity);
      } else {
        out[key] = this.normalize(child, twin, `${path}.${key}`, key === "items" ? kind.replace(/List$/, "") : identity);
      }
    }
    return out;
  }

  private normalizeManagedFields(entries: unknown[], others: unknown[] | undefined, identity: string): unknown[] {
    const text = (v: unknown) => (typeof v === "string" ? v : "");
    const key = (e: JsonObject) => `${text(e["manager"])}|${text(e["operation"])}|${text(e["subresource"])}`;
    const sorted = entries.filter(isObject).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    return sorted.map((e) => {
      const twin = others?.filter(isObject).find((o) => key(o) === key(e));
      if (twin !== undefined && typeof e["time"] === "string" && typeof twin["time"] === "string") this.matchTime(`${identity}|${key(e)}`, e["time"], twin["time"]);
      return { ...e, time: e["time"] === undefined ? undefined : "<time>" };
    });
  }

  private matchUid(recorded: string, actual: unknown): string {
    if (typeof actual !== "string") return recorded;
    const known = this.uids.get(recorded);
    if (known === undefined && !this.fakeUids.has(actual)) {
      this.uids.set(recorded, actual);
      this.fakeUids.set(actual, recorded);
    } else if (known !== actual) {
      this.problems.push(`uid ${recorded} was ${known ?? "unseen"} in the fake before, now ${actual}`);
    }
    return recorded;
  }

  private matchRv(identity: string, recorded: string, actual: unknown): void {
    if (typeof actual !== "string") return;
    const last = this.lastRv.get(identity);
    if (last !== undefined) {
      const recordedChanged = last.recorded !== recorded;
      const actualChanged = last.actual !== actual;
      if (recordedChanged !== actualChanged) {
        this.problems.push(`${identity}: resourceVersion ${recordedChanged ? "changed" : "stayed"} in the recording (${last.recorded}→${recorded}) but ${actualChanged ? "changed" : "stayed"} in the fake (${last.actual}→${actual})`);
      }
      if (recordedChanged) this.writeRecorded = true;
    }
    this.lastRv.set(identity, { recorded, actual });
    this.rvs.set(recorded, actual);
  }

  private matchTime(key: string, recorded: string, actual: string): void {
    // A dry run answers what a write would store; it is no baseline for later answers.
    if (this.dryRun) return;
    const last = this.lastTime.get(key);
    this.lastTime.set(key, { recorded, actual });
    if (last === undefined) return;
    const recordedChanged = last.recorded !== recorded;
    const actualChanged = last.actual !== actual;
    if (recordedChanged && !actualChanged) this.problems.push(`${key}: managedFields time changed in the recording but not in the fake`);
    if (!recordedChanged && actualChanged && !this.writeRecorded) this.problems.push(`${key}: managedFields time changed in the fake without a write`);
  }
}

// An Expired Status names resourceVersions the fake cannot share with the recording.
function withoutNumbers(value: unknown): unknown {
  if (!isObject(value)) return value;
  return { ...value, message: String(value["message"]).replace(/\d+/g, "N") };
}

function continueStart(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { start?: unknown };
    return String(parsed.start);
  } catch {
    return token;
  }
}

/** The path of the first difference between two normalized values, with both sides. */
export function firstDifference(a: unknown, b: unknown, path: string): string {
  if (deepEqual(a, b)) return "(none)";
  if (isObject(a) && isObject(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (!deepEqual(a[key], b[key])) return firstDifference(a[key], b[key], `${path}.${key}`);
    }
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return firstDifference(a[i], b[i], `${path}[${i}]`);
  }
  return `${path || "(root)"}: expected ${JSON.stringify(a)}, got ${JSON.stringify(b)}`;
}
