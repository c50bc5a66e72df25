import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { storedQuantity } from "../../src/providers/kubernetes/quantity.ts";
import type { FakeApiServer } from "./fake-apiserver.ts";
import { startFakeApiServer } from "./fake-apiserver.ts";
import { canonicalQuantity } from "./fake-apiserver/quantity.ts";

// What the fake stores for what it is sent, beyond the recorded sequences (08-normalization is
// replayed in fake-apiserver-replay.test.ts): quantities in every quantity field, and ownership
// moved by every kind of Update operation, with the managedFields entries the server writes.

const skip = process.env["GITWARD_TEST_KUBECONFIG"] !== undefined && process.env["GITWARD_TEST_KUBECONFIG"] !== "";

interface Entry {
  readonly manager: string;
  readonly operation: string;
  readonly apiVersion: string;
  readonly time?: string;
  readonly fieldsType: string;
  readonly fieldsV1: Record<string, unknown>;
  readonly subresource?: string;
}
type Obj = Record<string, unknown> & { metadata: { resourceVersion: string; generation?: number; managedFields: Entry[] } };

async function call(fake: FakeApiServer, method: string, path: string, body: unknown, contentType: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Obj }> {
  const res = await fetch(`${fake.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${fake.token}`, Accept: "application/json", "Content-Type": contentType, "User-Agent": "", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Obj };
}

const ns = "normalize";
const deploymentPath = (name: string) => `/apis/apps/v1/namespaces/${ns}/deployments/${name}`;
const deploymentYaml = (name: string, extra = "", resources = "") =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\n  namespace: ${ns}\nspec:\n  replicas: 2\n${extra}  selector:\n    matchLabels: { app: ${name} }\n` +
  `  template:\n    metadata:\n      labels: { app: ${name} }\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.25\n${resources}`;

describe("the fake's quantities", () => {
  // Cross-checks the fake's port of resource.Quantity with gitward's own on many forms.
  it("agrees with gitward's reading of quantities", () => {
    const numbers = ["0", "1", "5", "10", "100", "1000", "1024", "1536", "0.5", "0.25", "1.5", "1.500", "0.001", "007", "100.035", "128974848", "9223372036854775807", ".5", "1.", "0.0000000001"];
    const suffixes = ["", "m", "k", "M", "G", "T", "n", "u", "Ki", "Mi", "Gi", "Ti", "e3", "E-3", "e0"];
    for (const n of numbers) {
      for (const s of suffixes) {
        for (const sign of ["", "-", "+"]) {
          const text = `${sign}${n}${s}`;
          assert.equal(canonicalQuantity(text), storedQuantity(text), text);
        }
      }
    }
    for (const n of [0, 1, 2, 0.5, 1000, 1073741824, 1e21, 1.5e-7]) assert.equal(canonicalQuantity(n), storedQuantity(n), String(n));
  });
});

describe("the fake stores what the API server stores", { skip }, () => {
  let fake: FakeApiServer;
  before(async () => {
    fake = await startFakeApiServer();
    await call(fake, "PATCH", `/api/v1/namespaces/${ns}?fieldManager=gitward`, `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`, "application/apply-patch+yaml");
  });
  after(async () => {
    assert.deepEqual(fake.controllerErrors, []);
    await fake.close();
  });

  it("canonicalizes quantities wherever the type has them: a Pod's containers, a PVC, a ResourceQuota, a LimitRange", async () => {
    const pod = await call(fake, "POST", `/api/v1/namespaces/${ns}/pods`, {
      apiVersion: "v1", kind: "Pod", metadata: { name: "p" },
      spec: { containers: [{ name: "c", image: "nginx:1.25", resources: { limits: { cpu: "1000m", memory: "1024Mi" }, requests: { cpu: 0.5 } } }], overhead: { cpu: "250m" } },
    }, "application/json");
    assert.equal(pod.status, 201);
    assert.deepEqual((pod.body["spec"] as { containers: { resources: unknown }[] }).containers[0]?.resources, { limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "500m" } });
    const quota = await call(fake, "PATCH", `/api/v1/namespaces/${ns}/resourcequotas/q?fieldManager=gitward`, `apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: q\nspec:\n  hard: { requests.cpu: 2000m, pods: "10", requests.memory: 1e3 }\n`, "application/apply-patch+yaml");
    assert.deepEqual((quota.body["spec"] as { hard: unknown }).hard, { "requests.cpu": "2", pods: "10", "requests.memory": "1k" });
    const claim = await call(fake, "PATCH", `/api/v1/namespaces/${ns}/persistentvolumeclaims/c?fieldManager=gitward`, `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: c\nspec:\n  accessModes: [ReadWriteOnce]\n  resources: { requests: { storage: 2048Mi } }\n`, "application/apply-patch+yaml");
    assert.deepEqual((claim.body["spec"] as { resources: unknown }).resources, { requests: { storage: "2Gi" } });
    const limits = await call(fake, "PATCH", `/api/v1/namespaces/${ns}/limitranges/l?fieldManager=gitward`, `apiVersion: v1\nkind: LimitRange\nmetadata:\n  name: l\nspec:\n  limits: [{ type: Container, default: { cpu: "0.5" } }]\n`, "application/apply-patch+yaml");
    assert.deepEqual((limits.body["spec"] as { limits: unknown[] }).limits, [{ type: "Container", default: { cpu: "500m" } }]);
  });

  it("keeps quantity-like text outside quantity fields as written", async () => {
    const cm = await call(fake, "PATCH", `/api/v1/namespaces/${ns}/configmaps/q?fieldManager=gitward`, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: q\ndata:\n  cpu: "1000m"\n`, "application/apply-patch+yaml");
    assert.deepEqual(cm.body["data"], { cpu: "1000m" });
  });

  const updates: { name: string; method: string; type: string; body: (live: Obj) => unknown; query: string; headers?: Record<string, string>; manager: string }[] = [
    { name: "merge patch", method: "PATCH", type: "application/merge-patch+json", body: () => ({ spec: { minReadySeconds: 9 } }), query: "?fieldManager=kubectl-patch", manager: "kubectl-patch" },
    { name: "JSON patch", method: "PATCH", type: "application/json-patch+json", body: () => [{ op: "add", path: "/spec/minReadySeconds", value: 9 }], query: "?fieldManager=script", manager: "script" },
    { name: "strategic merge patch", method: "PATCH", type: "application/strategic-merge-patch+json", body: () => ({ spec: { minReadySeconds: 9 } }), query: "", headers: { "User-Agent": "kubectl-edit/v1.32.0 (linux/amd64)" }, manager: "kubectl-edit" },
    { name: "PUT", method: "PUT", type: "application/json", body: (live) => ({ ...live, spec: { ...(live["spec"] as object), minReadySeconds: 9 } }), query: "?fieldManager=operator", manager: "operator" },
  ];
  for (const u of updates) {
    it(`moves a field gitward applied to the writer of a ${u.name}, an Update entry with its time`, async () => {
      const name = `by-${u.manager}`;
      const created = await call(fake, "PATCH", `${deploymentPath(name)}?fieldManager=gitward`, deploymentYaml(name, "  minReadySeconds: 3\n"), "application/apply-patch+yaml");
      assert.equal(created.status, 201);
      const res = await call(fake, u.method, `${deploymentPath(name)}${u.query}`, u.body(created.body), u.type, u.headers);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.metadata.generation, 2);
      const entries = res.body.metadata.managedFields;
      const writer = entries.find((e) => e.manager === u.manager);
      assert.deepEqual({ ...writer, time: typeof writer?.time }, {
        manager: u.manager, operation: "Update", apiVersion: "apps/v1", time: "string", fieldsType: "FieldsV1", fieldsV1: { "f:spec": { "f:minReadySeconds": {} } },
      });
      const gitward = entries.find((e) => e.manager === "gitward");
      assert.equal(JSON.stringify(gitward?.fieldsV1).includes("minReadySeconds"), false, "gitward no longer owns it");
      const conflict = await call(fake, "PATCH", `${deploymentPath(name)}?fieldManager=gitward`, deploymentYaml(name, "  minReadySeconds: 3\n"), "application/apply-patch+yaml");
      assert.equal(conflict.status, 409);
      assert.equal(conflict.body["message"], `Apply failed with 1 conflict: conflict with "${u.manager}" using apps/v1: .spec.minReadySeconds`);
    });
  }

  it("serves the scale subresource: GET, PUT and patches, the writer owning spec.replicas on the parent without a time", async () => {
    await call(fake, "PATCH", `${deploymentPath("scaled")}?fieldManager=gitward`, deploymentYaml("scaled"), "application/apply-patch+yaml");
    const got = await fetch(`${fake.url}${deploymentPath("scaled")}/scale`, { headers: { Authorization: `Bearer ${fake.token}` } }).then(async (r) => (await r.json()) as Obj);
    assert.equal(got["kind"], "Scale");
    assert.deepEqual(got["spec"], { replicas: 2 });
    assert.equal((got["status"] as { selector: string }).selector, "app=scaled");
    const put = await call(fake, "PUT", `${deploymentPath("scaled")}/scale?fieldManager=hpa`, { ...got, spec: { replicas: 4 } }, "application/json");
    assert.equal(put.status, 200);
    assert.deepEqual(put.body["spec"], { replicas: 4 });
    const stale = await call(fake, "PUT", `${deploymentPath("scaled")}/scale?fieldManager=hpa`, { ...got, spec: { replicas: 6 } }, "application/json");
    assert.equal(stale.status, 409, "a stale resourceVersion is refused");
    const patched = await call(fake, "PATCH", `${deploymentPath("scaled")}/scale?fieldManager=kubectl-scale`, [{ op: "replace", path: "/spec/replicas", value: 5 }], "application/json-patch+json");
    assert.deepEqual(patched.body["spec"], { replicas: 5 });
    const live = await fetch(`${fake.url}${deploymentPath("scaled")}`, { headers: { Authorization: `Bearer ${fake.token}` } }).then(async (r) => (await r.json()) as Obj);
    assert.equal((live["spec"] as { replicas: number }).replicas, 5);
    const scaler = live.metadata.managedFields.filter((e) => e.subresource === "scale");
    assert.deepEqual(scaler, [{ manager: "kubectl-scale", operation: "Update", apiVersion: "apps/v1", fieldsType: "FieldsV1", fieldsV1: { "f:spec": { "f:replicas": {} } }, subresource: "scale" }]);
  });

  it("refuses a targetPort of digits as a string, and stores a number as a number", async () => {
    const svc = (target: string) => `apiVersion: v1\nkind: Service\nmetadata:\n  name: s${target.length}\nspec:\n  ports: [{ port: 80, targetPort: ${target} }]\n`;
    const digits = await call(fake, "PATCH", `/api/v1/namespaces/${ns}/services/s6?fieldManager=gitward`, svc('"8080"'), "application/apply-patch+yaml");
    assert.equal(digits.status, 422);
    const number = await call(fake, "PATCH", `/api/v1/namespaces/${ns}/services/s4?fieldManager=gitward`, svc("8080"), "application/apply-patch+yaml");
    assert.equal((number.body["spec"] as { ports: { targetPort: unknown }[] }).ports[0]?.targetPort, 8080);
  });
});
