/**
 * The fake forge's conformance checker: every request a client sends and every answer a face
 * gives is checked against the forge's own API description (GitHub's official OpenAPI from
 * `@octokit/openapi`, GitLab's OpenAPI 3 and Gitea's Swagger 2 in `test/fixtures/forge-api/`),
 * so a face cannot drift from the real forge and a client cannot rely on what the forge lacks.
 *
 * Schemas are validated with Ajv over the whole description, added once under an id and compiled
 * by JSON pointer, so `$ref`s into `#/components/...` and `#/definitions/...` resolve as written.
 * Before that the description is normalised once: OpenAPI's `nullable: true` (and Swagger's
 * `x-nullable`) becomes a JSON Schema that admits null, which Ajv cannot do alone when a schema
 * has no `type`.
 */
import { readFileSync } from "node:fs";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import type { Conformance } from "./server.ts";

/** A forge whose API description the checker knows. */
export type DescribedForge = "github" | "gitlab" | "gitea";

type Json = Record<string, unknown>;

const repoRoot = new URL("../../../", import.meta.url);

/** Where each description is, and the prefix its paths carry above a face's templates. */
const sources: Record<DescribedForge, { readonly file: string; readonly prefix: string }> = {
  github: { file: "node_modules/@octokit/openapi/generated/api.github.com.json", prefix: "" },
  // GitLab's paths are written with the base path (`/api/v4/projects/{id}`); Gitea's sit below `basePath`.
  gitlab: { file: "test/fixtures/forge-api/gitlab/openapi_v3.trimmed.json", prefix: "/api/v4" },
  gitea: { file: "test/fixtures/forge-api/gitea/swagger.full.json", prefix: "" },
};

/** Error statuses a forge answers for any operation whether or not its description lists them. */
const undeclaredErrorsAllowed = new Set([401, 403, 404, 429]);
/** Statuses that never carry a body. */
const bodiless = new Set([204, 205, 304]);

interface Operation {
  readonly name: string;
  /** JSON pointer of the operation object in the description. */
  readonly pointer: string;
  readonly op: Json;
  /** Parameters of the path item and the operation, `$ref`s followed, keyed `in:name`. */
  readonly params: ReadonlyMap<string, { readonly pointer: string; readonly param: Json }>;
}

/** One loaded description: the document, its Ajv, and caches of operations and validators. */
class Description {
  readonly kind: DescribedForge;
  readonly doc: Json;
  readonly swagger2: boolean;
  private readonly id: string;
  private readonly ajv: Ajv;
  private readonly shapes = new Map<string, string[]>();
  private readonly operations = new Map<string, Operation | undefined>();
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(kind: DescribedForge) {
    this.kind = kind;
    const file = new URL(sources[kind].file, repoRoot);
    this.doc = JSON.parse(readFileSync(file, "utf8")) as Json;
    this.swagger2 = this.doc["swagger"] === "2.0";
    normalise(this.doc, false);
    this.id = `https://gitward.test/forge-api/${kind}.json`;
    // Formats are not enforced: the descriptions use many (int64, uri, date-time) that the
    // forges themselves do not hold to strictly.
    this.ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, validateSchema: false, logger: false });
    this.ajv.addSchema(this.doc, this.id);
    for (const path of Object.keys(object(this.doc["paths"]))) {
      const shape = shapeOf(path);
      this.shapes.set(shape, [...(this.shapes.get(shape) ?? []), path]);
    }
  }

  /** The operation for `method` on a face's template, matched by shape, not parameter names. */
  operation(method: string, template: string): Operation | undefined {
    const key = `${method.toUpperCase()} ${template}`;
    if (this.operations.has(key)) return this.operations.get(key);
    let found: Operation | undefined;
    for (const path of this.shapes.get(shapeOf(sources[this.kind].prefix + template)) ?? []) {
      const item = object(object(this.doc["paths"])[path]);
      const op = item[method.toLowerCase()];
      if (!isObject(op)) continue;
      const pointer = pointerOf("paths", path, method.toLowerCase());
      const params = new Map<string, { pointer: string; param: Json }>();
      const collect = (list: unknown, base: string): void => {
        if (!Array.isArray(list)) return;
        list.forEach((_, i) => {
          const { pointer: p, value } = this.deref(`${base}/${i}`);
          params.set(`${String(value["in"])}:${String(value["name"])}`, { pointer: p, param: value });
        });
      };
      collect(item["parameters"], pointerOf("paths", path, "parameters"));
      collect(op["parameters"], `${pointer}/parameters`);
      found = { name: typeof op["operationId"] === "string" ? op["operationId"] : `${method} ${path}`, pointer, op, params };
      break;
    }
    this.operations.set(key, found);
    return found;
  }

  /** The value at `pointer`, following `$ref`s (`#/components/parameters/…`, `#/responses/…`). */
  deref(pointer: string): { pointer: string; value: Json } {
    let at = pointer;
    for (let hops = 0; hops < 20; hops++) {
      const value = object(at.split("/").slice(1).reduce<unknown>((node, seg) => child(node, unescape(seg)), this.doc));
      const ref = value["$ref"];
      if (typeof ref !== "string" || !ref.startsWith("#/")) return { pointer: at, value };
      at = ref.slice(1);
    }
    throw new Error(`${this.kind} API description: $ref loop at ${pointer}`);
  }

  /** Validates `data` against the schema at `pointer` in the description. */
  validate(pointer: string, data: unknown, where: string): string[] {
    let v = this.validators.get(pointer);
    if (v === undefined) {
      const ref = `${this.id}#${pointer.split("/").map(encodeURIComponent).join("/")}`;
      v = this.ajv.getSchema(ref);
      if (v === undefined) throw new Error(`${this.kind} API description: no schema at ${pointer}`);
      this.validators.set(pointer, v);
    }
    return v(data) ? [] : messages(where, v.errors ?? []);
  }

  /** Validates `data` against a schema built here (Swagger 2 parameters), compiled once under `key`. */
  validateInline(key: string, schema: () => Json, data: unknown, where: string): string[] {
    let v = this.validators.get(key);
    if (v === undefined) {
      v = this.ajv.compile(schema());
      this.validators.set(key, v);
    }
    return v(data) ? [] : messages(where, v.errors ?? []);
  }
}

const loaded = new Map<DescribedForge, Description>();

/** The description of `kind`, read and prepared on first use and kept for the process. */
function description(kind: DescribedForge): Description {
  let d = loaded.get(kind);
  if (d === undefined) {
    d = new Description(kind);
    loaded.set(kind, d);
  }
  return d;
}

/**
 * The conformance checker of `kind`'s API description, for a face's `conformance`. The
 * description is read on the first check, not here, so a face costs nothing until it serves.
 */
export function conformanceFor(kind: DescribedForge): Conformance {
  return {
    operation: (method, template) => description(kind).operation(method, template)?.name,
    request: (method, template, query, body) => {
      const d = description(kind);
      const op = d.operation(method, template);
      return op === undefined ? [] : [...checkQuery(d, op, query), ...checkBody(d, op, body)];
    },
    response: (method, template, status, body) => {
      const d = description(kind);
      const op = d.operation(method, template);
      return op === undefined ? [] : checkResponse(d, op, method, template, status, body);
    },
  };
}

function checkQuery(d: Description, op: Operation, query: Readonly<Record<string, string>>): string[] {
  const problems: string[] = [];
  for (const [key, { pointer, param }] of op.params) {
    if (param["in"] !== "query") continue;
    const name = String(param["name"]);
    const value = query[name];
    const where = `query.${name}`;
    if (value === undefined) {
      if (param["required"] === true) problems.push(`${where}: is required`);
      continue;
    }
    // A query value is text; it conforms when any reading of it (text, number, boolean, list) does.
    const check = (data: unknown): string[] => d.swagger2
      ? d.validateInline(`${op.pointer} ${key}`, () => swaggerParamSchema(param), data, where)
      : d.validate(`${pointer}/schema`, data, where);
    const readings = readingsOf(value);
    const results = readings.map(check);
    if (results.some((r) => r.length === 0)) continue;
    // Report against the reading the declared type asks for, so `page=x` says "must be integer".
    const declared = d.swagger2 ? param["type"] : object(param["schema"])["type"];
    const best = readings.findIndex((r) => typeof declared === "string" && jsonType(r).includes(declared));
    problems.push(...(results[best < 0 ? 0 : best] ?? []));
  }
  return problems;
}

function checkBody(d: Description, op: Operation, body: unknown): string[] {
  if (!d.swagger2) {
    const rb = op.op["requestBody"];
    if (rb === undefined) return body === undefined ? [] : ["body: given, but the operation takes none"];
    const { pointer, value } = d.deref(`${op.pointer}/requestBody`);
    if (body === undefined) return value["required"] === true ? ["body: is required"] : [];
    const content = object(value["content"]);
    const media = jsonMedia(content);
    if (media === undefined || object(content[media])["schema"] === undefined) return [];
    return d.validate(pointer + pointerOf("content", media, "schema"), body, "body");
  }
  const params = [...op.params.values()];
  const inBody = params.find((p) => p.param["in"] === "body");
  const form = params.filter((p) => p.param["in"] === "formData");
  if (inBody !== undefined) {
    if (body === undefined) return inBody.param["required"] === true ? ["body: is required"] : [];
    return d.validate(`${inBody.pointer}/schema`, body, "body");
  }
  if (form.length > 0) {
    // Form fields may be sent as a JSON object's properties.
    const required = form.filter((p) => p.param["required"] === true).map((p) => String(p.param["name"]));
    if (body === undefined) return required.length > 0 ? ["body: is required"] : [];
    const schema = (): Json => ({
      type: "object",
      properties: Object.fromEntries(form.map((p) => [String(p.param["name"]), swaggerParamSchema(p.param)])),
      required,
    });
    return d.validateInline(`${op.pointer} formData`, schema, body, "body");
  }
  return body === undefined ? [] : ["body: given, but the operation takes none"];
}

function checkResponse(d: Description, op: Operation, method: string, template: string, status: number, body: unknown): string[] {
  const responses = object(op.op["responses"]);
  const code = [String(status), `${Math.floor(status / 100)}XX`, "default"].find((c) => responses[c] !== undefined);
  if (code === undefined) {
    if (undeclaredErrorsAllowed.has(status) || status >= 500) return [];
    return [`status ${status} is not declared for ${method} ${template} (declared: ${Object.keys(responses).join(", ")})`];
  }
  if (bodiless.has(status)) return body === undefined ? [] : [`body: status ${status} has no body`];
  const { pointer, value } = d.deref(op.pointer + pointerOf("responses", code));
  let schemaPointer: string | undefined;
  if (d.swagger2) {
    if (value["schema"] !== undefined) schemaPointer = `${pointer}/schema`;
  } else {
    const content = object(value["content"]);
    const media = jsonMedia(content);
    if (media !== undefined && object(content[media])["schema"] !== undefined) {
      schemaPointer = pointer + pointerOf("content", media, "schema");
    }
  }
  if (schemaPointer === undefined) return [];
  if (body === undefined) return status < 300 ? [`body: missing; status ${status} describes one`] : [];
  return d.validate(schemaPointer, body, "body");
}

/** The JSON media type of an OpenAPI `content` map (`application/json`, or a `+json` one). */
function jsonMedia(content: Json): string | undefined {
  const types = Object.keys(content);
  return types.find((t) => t === "application/json") ?? types.find((t) => /^application\/([\w.-]+\+)?json/.test(t));
}

/** A Swagger 2 non-body parameter as a JSON Schema: its own schema keywords, minus the parameter's. */
function swaggerParamSchema(param: Json): Json {
  const { name: _n, in: _i, required: _r, description: _d, collectionFormat: _c, allowEmptyValue: _a, ...schema } = param;
  if (schema["type"] === "file") delete schema["type"];
  return schema;
}

/** The ways a query string's value may be read: as text, number, boolean, or comma list. */
function readingsOf(text: string): unknown[] {
  const scalar = (s: string): unknown[] => [
    s,
    ...(s.trim() !== "" && Number.isFinite(Number(s)) ? [Number(s)] : []),
    ...(s === "true" || s === "false" ? [s === "true"] : []),
  ];
  const parts = text.split(",");
  return [...scalar(text), parts.map((p) => scalar(p).at(-1)), parts];
}

function jsonType(v: unknown): string[] {
  if (Array.isArray(v)) return ["array"];
  if (typeof v === "number") return Number.isInteger(v) ? ["integer", "number"] : ["number"];
  return [typeof v];
}

/** Ajv's errors as `body.head.sha: must be string`. */
function messages(where: string, errors: readonly ErrorObject[]): string[] {
  const out = new Set<string>();
  // A query value is never null, so the null a nullable parameter admits is not worth naming.
  const shown = (v: unknown): boolean => v !== null || !where.startsWith("query.");
  for (const e of errors) {
    if (e.keyword === "if") continue;
    let path = where + e.instancePath.split("/").slice(1).map((s) => {
      const seg = unescape(s);
      return /^\d+$/.test(seg) ? `[${seg}]` : `.${seg}`;
    }).join("");
    const params = e.params as Record<string, unknown>;
    let message = e.message ?? e.keyword;
    if (e.keyword === "required") {
      path += `.${String(params["missingProperty"])}`;
      message = "is required";
    } else if (e.keyword === "additionalProperties") {
      path += `.${String(params["additionalProperty"])}`;
      message = "is not allowed";
    } else if (e.keyword === "enum" && Array.isArray(params["allowedValues"])) {
      message = `must be one of ${params["allowedValues"].filter((v) => shown(v)).map(String).join(", ")}`;
    } else if (e.keyword === "type") {
      message = `must be ${String(params["type"]).split(",").filter((t) => shown(t === "null" ? null : t)).join(" or ")}`;
    }
    out.add(`${path}: ${message}`);
  }
  return [...out];
}

/**
 * Rewrites the description in place so Ajv reads it as OpenAPI means it: `nullable: true` and
 * `x-nullable: true` admit null (also where an `enum` omits it: GitHub marks such request
 * fields nullable and documents null as the way to clear them), and Swagger's `type: file` is
 * dropped. Examples and `x-` extensions are data, not schemas, and are left alone.
 */
function normalise(node: unknown, inProperties: boolean): void {
  if (Array.isArray(node)) {
    for (const x of node) normalise(x, false);
    return;
  }
  if (!isObject(node)) return;
  for (const [k, v] of Object.entries(node)) {
    if (inProperties || (k !== "example" && k !== "examples" && !k.startsWith("x-"))) normalise(v, k === "properties" && !inProperties);
  }
  if (inProperties) return;
  if (node["type"] === "file") delete node["type"];
  if (node["nullable"] !== true && node["x-nullable"] !== true) return;
  delete node["nullable"];
  delete node["x-nullable"];
  const type = node["type"];
  if (typeof type === "string") {
    node["type"] = [type, "null"];
    const values = node["enum"];
    if (Array.isArray(values) && !values.includes(null)) node["enum"] = [...values, null];
    return;
  }
  // No `type` (an allOf / oneOf / $ref): null, or else the schema as written.
  const rest = { ...node };
  for (const k of Object.keys(node)) delete node[k];
  Object.assign(node, { if: { type: "null" }, else: rest });
}

/** A template's shape: literal segments kept, each `{name}` reduced to `{}`. */
function shapeOf(template: string): string {
  return template.replace(/\{[^}]*\}/g, "{}");
}

function pointerOf(...segments: string[]): string {
  return segments.map((s) => `/${s.replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}

function unescape(segment: string): string {
  return segment.replace(/~1/g, "/").replace(/~0/g, "~");
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A member of an object or an element of an array, as a JSON pointer segment names it. */
function child(node: unknown, segment: string): unknown {
  return Array.isArray(node) ? node[Number(segment)] : object(node)[segment];
}

function object(v: unknown): Json {
  return isObject(v) ? v : {};
}
