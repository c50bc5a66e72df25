import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Ajv, type ValidateFunction } from "ajv";
import { startApi, type Api } from "./api-support.ts";

type Json = Record<string, unknown>;

/** The contract's endpoints: each must be in the document. */
const contract: readonly (readonly [string, string])[] = [
  ["get", "/api/v1/me"], ["get", "/api/v1/status"], ["get", "/api/v1/environments"], ["get", "/api/v1/stacks"],
  ["get", "/api/v1/environments/{env}/stacks/{stack}"], ["get", "/api/v1/environments/{env}/stacks/{stack}/diff"],
  ["get", "/api/v1/history"], ["get", "/api/v1/drift"], ["get", "/api/v1/audit"], ["get", "/api/v1/gate"],
  ["post", "/api/v1/sync"], ["post", "/api/v1/rollback"], ["get", "/api/v1/events"],
];

const methods = new Set(["get", "post", "put", "patch", "delete"]);

/** OpenAPI 3.0's `nullable: true` as JSON Schema Ajv understands: the type admits null. */
function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  if (typeof value !== "object" || value === null) return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) if (k !== "nullable") out[k] = normalise(v);
  const o = value as Json;
  if (o["nullable"] === true) {
    if (typeof o["type"] === "string") out["type"] = [o["type"], "null"];
    if (Array.isArray(o["enum"])) out["enum"] = [...(o["enum"] as unknown[]), null];
  }
  return out;
}

describe("the OpenAPI document", () => {
  let api: Api;
  let doc: Json;
  let paths: Record<string, Record<string, Json>>;
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  const validators = new Map<string, ValidateFunction>();
  /** The validator of an operation's response schema for a status. */
  const responseValidator = (method: string, path: string, status: number): ValidateFunction => {
    const key = `${method} ${path} ${status}`;
    const found = validators.get(key);
    if (found !== undefined) return found;
    const response = (paths[path]?.[method]?.["responses"] as Record<string, Json> | undefined)?.[String(status)];
    const schema = ((response?.["content"] as Record<string, Json> | undefined)?.["application/json"])?.["schema"];
    assert.ok(schema !== undefined, `${key}: no application/json schema in the document`);
    const v = ajv.compile(normalise(schema) as Json);
    validators.set(key, v);
    return v;
  };

  before(async () => {
    api = await startApi();
    const r = await api.get("/api/openapi.json", null);
    assert.equal(r.statusCode, 200);
    assert.match(r.headers["content-type"] ?? "", /application\/json/);
    doc = r.json<Json>();
    paths = doc["paths"] as typeof paths;
  });
  after(() => api.close());

  it("is OpenAPI 3.0 with info, security schemes, and every operation well formed", () => {
    assert.equal(doc["openapi"], "3.0.3");
    const info = doc["info"] as Json;
    assert.equal(typeof info["title"], "string");
    assert.equal(typeof info["version"], "string");
    assert.deepEqual(Object.keys((doc["components"] as { securitySchemes: Json }).securitySchemes).sort(), ["bearer", "session"]);
    for (const [path, item] of Object.entries(paths)) {
      assert.match(path, /^\/api\//, `only the API is described: ${path}`);
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const [method, op] of Object.entries(item)) {
        assert.ok(methods.has(method), `${path}: ${method}`);
        const responses = op["responses"] as Record<string, Json> | undefined;
        assert.ok(responses !== undefined && Object.keys(responses).length > 0, `${method} ${path} lists its responses`);
        for (const status of Object.keys(responses)) assert.match(status, /^([1-5][0-9][0-9]|default)$/, `${method} ${path}: ${status}`);
        const params = (op["parameters"] ?? []) as Json[];
        for (const p of params) {
          assert.ok(["query", "path", "header", "cookie"].includes(p["in"] as string) && typeof p["name"] === "string" && p["schema"] !== undefined, `${method} ${path}: ${JSON.stringify(p)}`);
        }
        for (const name of templated) {
          assert.ok(params.some((p) => p["in"] === "path" && p["name"] === name && p["required"] === true), `${method} ${path}: path parameter ${name ?? ""} declared and required`);
        }
      }
    }
  });

  it("describes every endpoint of the contract, and every described operation exists", () => {
    for (const [method, path] of contract) assert.ok(paths[path]?.[method] !== undefined, `${method.toUpperCase()} ${path} is in the document`);
    for (const [path, item] of Object.entries(paths)) {
      for (const method of Object.keys(item)) {
        const url = path.replace(/\{[^}]+\}/g, "x");
        assert.ok(api.app.hasRoute({ method: method.toUpperCase(), url: path.replace(/\{([^}]+)\}/g, ":$1") }), `${method} ${url} is served`);
      }
    }
  });

  it("every schema in it compiles", () => {
    let count = 0;
    for (const [path, item] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(item)) {
        for (const status of Object.keys(op["responses"] as Json)) {
          const content = ((op["responses"] as Record<string, Json>)[status]?.["content"] ?? {}) as Record<string, Json>;
          if (content["application/json"] !== undefined) {
            responseValidator(method, path, Number(status));
            count++;
          }
        }
        const body = (((op["requestBody"] as Json | undefined)?.["content"] ?? {}) as Record<string, Json>)["application/json"]?.["schema"];
        if (body !== undefined) ajv.compile(normalise(body) as Json);
      }
    }
    assert.ok(count > 20, `${count} response schemas`);
  });

  it("what the endpoints answer conforms to the document: successes and errors", async () => {
    const cases: readonly [string, string, string | null, number][] = [
      ["/api/v1/me", "/api/v1/me", "viewer", 200],
      ["/api/v1/status", "/api/v1/status", "viewer", 200],
      ["/api/v1/environments", "/api/v1/environments", "viewer", 200],
      ["/api/v1/stacks", "/api/v1/stacks?environment=dev", "viewer", 200],
      ["/api/v1/history", "/api/v1/history?limit=2", "viewer", 200],
      ["/api/v1/drift", "/api/v1/drift", "viewer", 200],
      ["/api/v1/audit", "/api/v1/audit?limit=2", "viewer", 200],
      ["/api/v1/environments/{env}/stacks/{stack}", "/api/v1/environments/dev/stacks/web", "viewer", 200],
      ["/api/v1/history", "/api/v1/history?limit=9999", "viewer", 400],
      ["/api/v1/history", "/api/v1/history", null, 401],
      ["/api/v1/audit", "/api/v1/audit", "prodViewer", 403],
    ];
    for (const [path, url, token, status] of cases) {
      const r = await api.get(url, token);
      assert.equal(r.statusCode, status, `${url}: ${r.body}`);
      const validate = responseValidator("get", path, status);
      assert.ok(validate(r.json()), `${url} ${status}: ${ajv.errorsText(validate.errors)}`);
    }
  });

  it("the document does not conform to a wrong answer: the check can fail", () => {
    const validate = responseValidator("get", "/api/v1/history", 200);
    assert.equal(validate({ syncs: [] }), false);
    assert.equal(validate({ items: [{ id: 1 }], next: null }), false);
  });
});
