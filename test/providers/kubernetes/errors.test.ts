import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ObjRef } from "../../../src/core/objref.ts";
import type { ApiErrorKind, RequestContext } from "../../../src/providers/kubernetes/errors.ts";
import { classifyResponse, classifyTransportError, KubeApiError } from "../../../src/providers/kubernetes/errors.ts";
import { recorded, recordedFiles } from "./recordings.ts";

const kinds: Record<string, string> = {
  configmaps: "ConfigMap",
  deployments: "Deployment",
  widgets: "Widget",
  gadgets: "Gadget",
  namespaces: "Namespace",
  customresourcedefinitions: "CustomResourceDefinition",
};

/** The request context of a recorded exchange: the operation and, for a named object, its ref. */
function contextOf(relPath: string): RequestContext {
  const { request } = recorded(relPath);
  const apply = request.method === "PATCH" && /apply/.test(relPath);
  const m = /^\/apis?\/(?:([^/]+)\/)?v[^/]+\/(?:namespaces\/([^/]+)\/)?([^/]+)(?:\/([^/]+))?$/.exec(request.path);
  const operation = apply ? "apply" : request.method === "POST" ? "create" : request.method === "GET" ? (m?.[4] === undefined ? "list" : "get") : request.method.toLowerCase();
  const base = { operation, method: request.method, path: request.path, apply };
  if (m === null || m[4] === undefined) return base;
  const ref: ObjRef = m[2] === undefined ? { group: m[1] ?? "", kind: kinds[m[3]!] ?? m[3]!, name: m[4] } : { group: m[1] ?? "", kind: kinds[m[3]!] ?? m[3]!, namespace: m[2], name: m[4] };
  return { ...base, ref };
}

function classifyRecorded(relPath: string): KubeApiError {
  const { response } = recorded(relPath);
  const body = typeof response.body === "string" ? response.body : JSON.stringify(response.body);
  return classifyResponse(
    { status: response.status, body, ...(response.headers["content-type"] ? { contentType: response.headers["content-type"] } : {}) },
    contextOf(relPath),
  );
}

const cases: { file: string; kind: ApiErrorKind; message?: string | RegExp; retryable?: boolean }[] = [
  { file: "04-errors/01-get-missing-configmap-404.json", kind: "NotFound", message: 'ConfigMap/gitward-errors/does-not-exist: get failed (NotFound): configmaps "does-not-exist" not found' },
  { file: "04-errors/02-get-object-in-missing-namespace-404.json", kind: "NotFound" },
  { file: "04-errors/04-post-configmap-already-exists-409.json", kind: "AlreadyExists", message: 'create /api/v1/namespaces/gitward-errors/configmaps failed (AlreadyExists): configmaps "existing" already exists' },
  { file: "04-errors/06-put-configmap-stale-resourceversion-409.json", kind: "Conflict", message: /the object has been modified/ },
  { file: "04-errors/08-put-missing-object-404.json", kind: "NotFound" },
  { file: "04-errors/09-apply-deployment-selector-mismatch-422.json", kind: "Invalid", message: /^Deployment\/gitward-errors\/bad-selector: apply failed \(Invalid\): spec\.template\.metadata\.labels: Invalid value: .*`selector` does not match template `labels`$/ },
  { file: "04-errors/10-apply-configmap-invalid-name-422.json", kind: "Invalid", message: /^ConfigMap\/gitward-errors\/Bad_Name: apply failed \(Invalid\): metadata\.name: Invalid value: "Bad_Name"/ },
  { file: "04-errors/11-post-configmap-invalid-name-and-key-422.json", kind: "Invalid", message: /metadata\.name: Invalid value: .*; data\[bad key!\]: Invalid value/ },
  {
    file: "04-errors/12-apply-deployment-missing-required-fields-422.json",
    kind: "Invalid",
    message: /^Deployment\/gitward-errors\/empty: apply failed \(Invalid\): spec\.replicas: Invalid value: -1: must be greater than or equal to 0; spec\.selector: Required value; .*; spec\.template\.spec\.containers: Required value$/,
  },
  { file: "04-errors/13-apply-wrong-field-type-500.json", kind: "ApplyRejected", message: /apply failed \(ApplyRejected\): failed to create typed patch object .*: \.spec\.replicas: expected numeric/, retryable: false },
  { file: "04-errors/14-apply-unknown-field-typed-object-500.json", kind: "ApplyRejected", message: /\.notAField: field not declared in schema$/ },
  { file: "04-errors/16-apply-deployment-change-immutable-selector-422.json", kind: "Invalid", message: /spec\.selector: Invalid value: .*: field is immutable$/ },
  { file: "04-errors/17-apply-immutable-configmap-change-422.json", kind: "Invalid", message: "ConfigMap/gitward-errors/frozen: apply failed (Invalid): data: Forbidden: field is immutable when `immutable` is set" },
  { file: "04-errors/18-apply-unknown-group-404.json", kind: "NotServed", message: "Widget/gitward-errors/w: apply failed (NotServed): example.com/v1 is not served (404 page not found)" },
  { file: "04-errors/19-apply-unknown-resource-in-known-group-404.json", kind: "NotFound", message: /the server could not find the requested resource/ },
  { file: "04-errors/20-get-unknown-core-resource-404.json", kind: "NotFound" },
  { file: "04-errors/21-apply-kind-not-matching-url-resource-500.json", kind: "ApplyRejected", message: /no corresponding type for apps\/v1, Kind=Widget$/ },
  { file: "04-errors/22-patch-unsupported-content-type-406.json", kind: "NotAcceptable" },
  { file: "04-errors/23-post-to-named-object-405.json", kind: "MethodNotAllowed" },
  { file: "04-errors/24-post-malformed-json-400.json", kind: "BadRequest" },
  { file: "04-errors/25-post-namespace-mismatch-400.json", kind: "BadRequest" },
  { file: "04-errors/28-list-configmaps-invalid-labelselector-400.json", kind: "BadRequest", message: /^list \/api\/v1\/namespaces\/gitward-errors\/configmaps failed \(BadRequest\): unable to parse requirement/ },
  { file: "04-errors/33-list-configmaps-invalid-continue-400.json", kind: "BadRequest" },
  { file: "04-errors/36-apply-configmap-exceeding-resourcequota-403.json", kind: "Forbidden", message: /apply failed \(Forbidden\): configmaps "one-too-many" is forbidden: exceeded quota: cm-limit/ },
  { file: "04-errors/42-delete-missing-configmap-404.json", kind: "NotFound" },
  { file: "04-errors/48-delete-deployment-precondition-uid-mismatch-409.json", kind: "Conflict", message: /the UID in the precondition/ },
  { file: "04-errors/50-get-deployment-after-foreground-delete-404.json", kind: "NotFound" },
  { file: "04-errors/63-apply-new-configmap-in-terminating-namespace-403.json", kind: "Forbidden", message: /because it is being terminated$/ },
  { file: "04-errors/64-post-configmap-in-terminating-namespace-403.json", kind: "Forbidden" },
  { file: "04-errors/67-get-namespace-after-termination-404.json", kind: "NotFound", message: /^Namespace\/gitward-terminating: get failed/ },
  { file: "04-errors/70-bad-token-401.json", kind: "Unauthorized" },
  { file: "04-errors/71-no-token-anonymous-403.json", kind: "Forbidden", message: /system:anonymous/ },
  { file: "04-errors/73-no-rbac-list-configmaps-403.json", kind: "Forbidden" },
  { file: "04-errors/74-no-rbac-get-configmap-403.json", kind: "Forbidden" },
  { file: "04-errors/75-no-rbac-apply-configmap-403.json", kind: "Forbidden", message: /cannot patch resource "configmaps"/ },
  { file: "04-errors/76-no-rbac-get-cluster-scoped-namespace-403.json", kind: "Forbidden" },
  { file: "03-apply/13-apply-configmap-conflict-with-kubectl-edit-409.json", kind: "ApplyConflict", message: 'ConfigMap/gitward-demo/app-config: conflict with "kubectl-edit" (using v1): .data.color' },
  { file: "03-apply/15-apply-deployment-by-other-conflict-409.json", kind: "ApplyConflict", message: 'Deployment/gitward-demo/web: conflict with "gitward": .spec.replicas' },
  { file: "03-apply/17-apply-deployment-gitward-conflict-with-other-409.json", kind: "ApplyConflict", message: 'Deployment/gitward-demo/web: conflict with "other": .spec.replicas' },
  { file: "03-apply/21-apply-without-fieldmanager-422.json", kind: "Invalid", message: /fieldManager: Required value: is required for apply patch$/ },
  { file: "03-apply/22-apply-name-mismatch-with-url-400.json", kind: "BadRequest" },
  { file: "03-apply/23-apply-kind-mismatch-with-url-500.json", kind: "ApplyRejected" },
  { file: "03-apply/24-apply-namespace-mismatch-with-url-400.json", kind: "BadRequest" },
  { file: "03-apply/25-apply-body-without-apiversion-kind-400.json", kind: "BadRequest" },
  { file: "03-apply/26-apply-malformed-yaml-400.json", kind: "BadRequest" },
  { file: "03-apply/28-get-configmap-after-dryrun-create-404.json", kind: "NotFound" },
  { file: "03-apply/31-json-patch-failed-test-422.json", kind: "Invalid", message: /failed \(Invalid\): the server rejected our request/ },
  { file: "03-apply/35-apply-configmap-unquoted-boolean-value-500.json", kind: "ApplyRejected", message: /errors: \.data\.enabled: expected string, .* \.data\.port: expected string/ },
  { file: "05-crd/08-apply-widget-invalid-enum-and-maximum-422.json", kind: "Invalid", message: /spec\.size: Invalid value: 42: .*; spec\.color: Unsupported value: "purple"/ },
  { file: "05-crd/08b-apply-widget-wrong-item-types-500.json", kind: "ApplyRejected" },
  { file: "05-crd/09-apply-widget-missing-required-422.json", kind: "Invalid", message: "Widget/gitward-crd/incomplete: apply failed (Invalid): spec.size: Required value; spec.color: Required value" },
  { file: "05-crd/10-apply-widget-wrong-type-500.json", kind: "ApplyRejected" },
  { file: "05-crd/10b-post-widget-wrong-type-422.json", kind: "Invalid" },
  { file: "05-crd/11-apply-widget-unknown-fields-500.json", kind: "ApplyRejected" },
  { file: "05-crd/17-strategic-merge-patch-widget-415.json", kind: "UnsupportedMediaType" },
  { file: "05-crd/21-get-missing-widget-404.json", kind: "NotFound" },
  { file: "05-crd/22-apply-widget-unserved-version-404.json", kind: "NotServed", message: /gitward\.example\.com\/v2 is not served/ },
  { file: "05-crd/23-apply-invalid-crd-422.json", kind: "Invalid", message: /^CustomResourceDefinition\/gadgets\.gitward\.example\.com: apply failed \(Invalid\): spec\.validation\.openAPIV3Schema/ },
  { file: "05-crd/29b-post-gadget-while-crd-terminating-405.json", kind: "MethodNotAllowed", message: /create not allowed while custom resource definition is terminating/ },
  { file: "05-crd/31-get-crd-after-delete-404.json", kind: "NotFound" },
  { file: "05-crd/32-get-gadget-after-crd-deleted-404.json", kind: "NotServed" },
  { file: "01-discovery/aggregated-api-v2beta1-only.json", kind: "NotAcceptable" },
  { file: "01-discovery/aggregated-apis-v2-v2beta1-only.json", kind: "NotAcceptable" },
  { file: "01-discovery/anonymous-get-api-v1.json", kind: "Forbidden", message: /^list \/api\/v1 failed|^get \/api\/v1 failed/ },
  { file: "01-discovery/get-apis-unknown-group.json", kind: "NotServed", message: /example\.com\/v1 is not served/ },
  { file: "01-discovery/get-apis-unknown-version.json", kind: "NotFound" },
];

describe("classifyResponse over the recorded failures", () => {
  for (const c of cases) {
    it(`${c.file} is ${c.kind}`, () => {
      const err = classifyRecorded(c.file);
      assert.ok(err instanceof KubeApiError);
      assert.equal(err.kind, c.kind, err.message);
      assert.equal(err.code, "cluster");
      if (typeof c.message === "string") assert.equal(err.message, c.message);
      else if (c.message !== undefined) assert.match(err.message, c.message);
      assert.doesNotMatch(err.message, /\n/);
      if (c.retryable !== undefined) assert.equal(err.retryability !== "no", c.retryable);
    });
  }

  it("covers every recorded failure in 04-errors", () => {
    const failing = recordedFiles("04-errors").filter((f) => recorded(f).response.status >= 400);
    const covered = new Set(cases.map((c) => c.file));
    assert.deepEqual(failing.filter((f) => !covered.has(f)), []);
  });

  it("reads the manager, its API version and the field of each apply conflict", () => {
    const err = classifyRecorded("03-apply/13-apply-configmap-conflict-with-kubectl-edit-409.json");
    assert.deepEqual(err.conflicts, [{ manager: "kubectl-edit", apiVersion: "v1", field: ".data.color" }]);
    assert.equal(err.retryability, "no");
    assert.match(err.hint ?? "", /force/);
  });

  it("reads a conflict with a writer through the scale subresource", () => {
    const err = classifyRecorded("08-normalization/34-apply-replicas-conflict-with-kubectl-scale-409.json");
    assert.deepEqual(err.conflicts, [{ manager: "kubectl-scale", apiVersion: "apps/v1", subresource: "scale", field: ".spec.replicas" }]);
    assert.equal(err.detail, 'conflict with "kubectl-scale" (subresource scale, using apps/v1): .spec.replicas');
  });

  it("reads the field causes of Invalid", () => {
    const err = classifyRecorded("05-crd/09-apply-widget-missing-required-422.json");
    assert.deepEqual(err.causes.map((c) => [c.reason, c.field]), [["FieldValueRequired", "spec.size"], ["FieldValueRequired", "spec.color"]]);
  });

  it("reads the watch ERROR event of an expired resourceVersion", () => {
    const watch = recorded("06-watch/08-watch-configmaps-too-old-resourceversion-410.json").response as unknown as { events: { object: unknown }[] };
    const err = classifyResponse({ status: 200, body: JSON.stringify(watch.events[0]!.object) }, { operation: "watch", path: "/api/v1/namespaces/gitward-watch/configmaps" });
    assert.equal(err.kind, "Expired");
    assert.equal(err.retryability, "no");
  });
});

describe("classifyResponse by code and reason", () => {
  const status = (code: number, reason: string, details: object = {}) => JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", message: "m", reason, code, details });
  const ctx: RequestContext = { operation: "apply", ref: { group: "", kind: "ConfigMap", namespace: "demo", name: "app" }, apply: true };
  const table: { name: string; status: number; body: string; retryAfter?: string; kind: ApiErrorKind; retryability: string; retryAfterSeconds?: number }[] = [
    { name: "429 with details.retryAfterSeconds", status: 429, body: status(429, "TooManyRequests", { retryAfterSeconds: 3 }), kind: "TooManyRequests", retryability: "yes", retryAfterSeconds: 3 },
    { name: "429 with a Retry-After header", status: 429, body: status(429, "TooManyRequests"), retryAfter: "7", kind: "TooManyRequests", retryability: "yes", retryAfterSeconds: 7 },
    { name: "500 InternalError", status: 500, body: status(500, "InternalError"), kind: "InternalError", retryability: "idempotent" },
    { name: "500 without a reason on a read", status: 500, body: status(500, ""), kind: "InternalError", retryability: "idempotent" },
    { name: "504 ServerTimeout", status: 504, body: status(504, "ServerTimeout"), kind: "ServerTimeout", retryability: "idempotent" },
    { name: "504 Timeout", status: 504, body: status(504, "Timeout"), kind: "Timeout", retryability: "idempotent" },
    { name: "503 ServiceUnavailable", status: 503, body: status(503, "ServiceUnavailable"), kind: "ServiceUnavailable", retryability: "yes" },
    { name: "503 from a proxy, not a Status", status: 503, body: "<html>upstream down</html>", kind: "ServiceUnavailable", retryability: "yes" },
    { name: "410 Gone", status: 410, body: status(410, "Gone"), kind: "Gone", retryability: "no" },
    { name: "410 Expired", status: 410, body: status(410, "Expired"), kind: "Expired", retryability: "no" },
    { name: "an unknown reason falls back on the code", status: 422, body: status(422, "SomethingNew"), kind: "Invalid", retryability: "no" },
  ];
  for (const c of table) {
    it(c.name, () => {
      const err = classifyResponse({ status: c.status, body: c.body, ...(c.retryAfter ? { retryAfter: c.retryAfter } : {}) }, c.name.includes("read") ? { operation: "get" } : ctx);
      assert.equal(err.kind, c.kind);
      assert.equal(err.retryability, c.retryability);
      assert.equal(err.retryAfterSeconds, c.retryAfterSeconds);
    });
  }
});

describe("classifyTransportError", () => {
  const ctx: RequestContext = { operation: "get", ref: { group: "apps", kind: "Deployment", namespace: "web", name: "api" } };
  const table: { errno?: string; timedOut?: boolean; kind: ApiErrorKind; retryability: string }[] = [
    { errno: "ECONNREFUSED", kind: "ConnectionRefused", retryability: "yes" },
    { errno: "ECONNRESET", kind: "ConnectionFailed", retryability: "idempotent" },
    { errno: "EPIPE", kind: "ConnectionFailed", retryability: "idempotent" },
    { errno: "ETIMEDOUT", kind: "RequestTimeout", retryability: "idempotent" },
    { timedOut: true, kind: "RequestTimeout", retryability: "idempotent" },
    { errno: "ENOTFOUND", kind: "HostNotFound", retryability: "no" },
    { errno: "DEPTH_ZERO_SELF_SIGNED_CERT", kind: "TlsFailed", retryability: "no" },
    { errno: "ERR_TLS_CERT_ALTNAME_INVALID", kind: "TlsFailed", retryability: "no" },
    { errno: "EWHATEVER", kind: "Unknown", retryability: "no" },
  ];
  for (const c of table) {
    it(`${c.errno ?? "client timeout"} is ${c.kind}`, () => {
      const cause = Object.assign(new Error(`boom ${c.errno ?? ""}`), c.errno === undefined ? {} : { code: c.errno });
      const err = classifyTransportError(cause, ctx, c.timedOut);
      assert.equal(err.kind, c.kind);
      assert.equal(err.retryability, c.retryability);
      assert.equal(err.status, 0);
      assert.equal(err.cause, cause);
      assert.match(err.message, /^Deployment\/web\/api: get failed \(/);
    });
  }
});

describe("what a KubeApiError keeps of the answer", () => {
  const forbidden = JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", message: 'forbidden: User "u" cannot get path "/openapi/v2"', reason: "Forbidden", code: 403 });
  const table = [
    { name: "a Status's reason and message", status: 403, body: forbidden, want: { statusReason: "Forbidden", statusMessage: 'forbidden: User "u" cannot get path "/openapi/v2"' } },
    { name: "nothing of a Status without them", status: 500, body: JSON.stringify({ kind: "Status", code: 500 }), want: { statusReason: undefined, statusMessage: undefined } },
    { name: "nothing of an answer that is no Status", status: 500, body: "boom", want: { statusReason: undefined, statusMessage: undefined } },
  ];
  for (const c of table) {
    it(c.name, () => {
      const err = classifyResponse({ status: c.status, body: c.body }, { operation: "get", method: "GET", path: "/openapi/v2" });
      assert.deepEqual({ statusReason: err.statusReason, statusMessage: err.statusMessage }, c.want);
      assert.equal(err.path, "/openapi/v2");
    });
  }
});
