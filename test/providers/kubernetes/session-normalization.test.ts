import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import type { KObject } from "../../../src/core/object.ts";
import { getPath } from "../../../src/core/object.ts";
import type { Harness } from "./session-support.ts";
import { configMap, configMapLocation, desired, namespaceObject, openHarness, requestsOf } from "./session-support.ts";

// What the server stores differs from what manifests say (canonical quantities, defaults); an
// unchanged manifest must still be found unchanged by apply and diff alike, and write nothing.

let h: Harness;
beforeEach(async () => {
  h = await openHarness();
});
afterEach(async () => {
  await h.close();
});

type Json = KObject[string];

/** A one-container Deployment with a container spec of the test's choosing. */
function workload(name: string, container: Record<string, Json>, spec: Record<string, Json> = {}): KObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: h.namespace },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "web", image: "nginx:1.25", ...container }] } },
      ...spec,
    },
  };
}

// The resources of 08-normalization/02.
const noncanonical = { limits: { cpu: "1000m", memory: "1024Mi" }, requests: { cpu: "0.5", memory: "128974848", "ephemeral-storage": "1G" } };

async function actions(objects: readonly KObject[], dryRun = false): Promise<string[]> {
  const entries = await h.session.apply(objects.map((o) => desired(h, o)), { stack: h.stack, dryRun, force: false });
  return entries.map((e) => `${e.ref.kind}/${e.ref.name} ${e.action}${e.message === undefined ? "" : `: ${e.message}`}`);
}

async function diffActions(objects: readonly KObject[]): Promise<string[]> {
  return (await h.session.diff(objects.map((o) => desired(h, o)), {})).entries.map((e) => `${e.ref.kind}/${e.ref.name} ${e.action}`);
}

const location = (kind: string, resource: string, group: string, name: string) => ({ group, version: "v1", resource, kind, namespace: h.namespace, name });

/** Re-applies and diffs objects already applied: all unchanged, nothing written (not even a dry run), resourceVersions unmoved. */
async function assertSettled(objects: readonly KObject[], locations: readonly ReturnType<typeof location>[]): Promise<void> {
  const before = await Promise.all(locations.map((l) => h.raw.get(l)));
  const names = objects.map((o) => `${o["kind"] as string}/${(o["metadata"] as { name: string }).name}`);
  h.fake?.clearRequests();
  assert.deepEqual(await actions(objects), names.map((n) => `${n} unchanged`));
  assert.deepEqual(await actions(objects, true), names.map((n) => `${n} unchanged`), "a dry run agrees");
  assert.deepEqual(await diffActions(objects), names.map((n) => `${n} no-op`), "diff agrees");
  if (h.fake !== undefined) assert.deepEqual(requestsOf(h.fake, "PATCH"), [], "nothing written");
  const after = await Promise.all(locations.map((l) => h.raw.get(l)));
  // Not the resourceVersion: a controller's status writes (the deployment controller's, on the
  // fake and on a real cluster) move it whenever they land. What gitward wrote is the spec's
  // generation and its own managedFields entry.
  assert.deepEqual(after.map(writtenByGitward), before.map(writtenByGitward));
}

function writtenByGitward(o: KObject): unknown {
  const entries = (getPath(o, ["metadata", "managedFields"]) ?? []) as KObject[];
  return { generation: getPath(o, ["metadata", "generation"]), gitward: entries.filter((e) => e["manager"] === "gitward") };
}

describe("KubernetesSession.apply and diff on values the server normalizes", () => {
  it("applies non-canonical quantities in the form the server stores, then finds them unchanged", async () => {
    const quantities = workload("quantities", { resources: noncanonical });
    const numbers = workload("numbers", { resources: { limits: { cpu: 2, memory: 1073741824 }, requests: { cpu: 0.25 } } });
    await actions([namespaceObject(h), quantities, numbers]);
    const live = await h.raw.get(location("Deployment", "deployments", "apps", "quantities"));
    assert.deepEqual(getPath((getPath(live, ["spec", "template", "spec", "containers"]) as KObject[])[0], ["resources"]), {
      limits: { cpu: "1", memory: "1Gi" },
      requests: { cpu: "500m", memory: "128974848", "ephemeral-storage": "1G" },
    });
    await assertSettled([quantities, numbers], [location("Deployment", "deployments", "apps", "quantities"), location("Deployment", "deployments", "apps", "numbers")]);
  });

  it("finds quantities of other kinds unchanged: a LimitRange, a ResourceQuota, a PersistentVolumeClaim", async () => {
    const limits: KObject = { apiVersion: "v1", kind: "LimitRange", metadata: { name: "limits", namespace: h.namespace }, spec: { limits: [{ type: "Container", default: { cpu: "1000m", memory: "512Mi" }, defaultRequest: { cpu: "0.1" } }] } };
    const quota: KObject = { apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "quota", namespace: h.namespace }, spec: { hard: { "requests.cpu": "2000m", "requests.memory": "2048Mi", pods: "10" } } };
    const claim: KObject = { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "data", namespace: h.namespace }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1024Mi" } } } };
    await actions([namespaceObject(h), limits, quota, claim]);
    assert.deepEqual(getPath(await h.raw.get(location("ResourceQuota", "resourcequotas", "", "quota")), ["spec", "hard"]), { "requests.cpu": "2", "requests.memory": "2Gi", pods: "10" });
    await assertSettled([limits, quota, claim], [location("LimitRange", "limitranges", "", "limits"), location("ResourceQuota", "resourcequotas", "", "quota"), location("PersistentVolumeClaim", "persistentvolumeclaims", "", "data")]);
  });

  it("still applies a quantity that really changed", async () => {
    await actions([namespaceObject(h), workload("grows", { resources: noncanonical })]);
    const bigger = workload("grows", { resources: { ...noncanonical, limits: { cpu: "2000m", memory: "1024Mi" } } });
    assert.deepEqual(await diffActions([bigger]), ["Deployment/grows update"]);
    assert.deepEqual(await actions([bigger]), ["Deployment/grows configured"]);
    const containers = getPath(await h.raw.get(location("Deployment", "deployments", "apps", "grows")), ["spec", "template", "spec", "containers"]) as KObject[];
    assert.equal(getPath(containers[0], ["resources", "limits", "cpu"]), "2");
  });

  it("keeps quantity-like strings of a ConfigMap as written, and a change between them is a change", async () => {
    await actions([namespaceObject(h), configMap(h, "strings", { cpu: "1000m", memory: "1024Mi", padded: "007" })]);
    assert.deepEqual(getPath(await h.raw.get(configMapLocation(h, "strings")), ["data"]), { cpu: "1000m", memory: "1024Mi", padded: "007" });
    await assertSettled([configMap(h, "strings", { cpu: "1000m", memory: "1024Mi", padded: "007" })], [configMapLocation(h, "strings")]);
    assert.deepEqual(await actions([configMap(h, "strings", { cpu: "1", memory: "1024Mi", padded: "007" })]), ["ConfigMap/strings configured"]);
  });

  it("finds a manifest that spells out the server's defaults unchanged, without writing them", async () => {
    const minimal = workload("minimal", { ports: [{ containerPort: 80 }] });
    await actions([namespaceObject(h), minimal]);
    const explicit = workload(
      "minimal",
      { imagePullPolicy: "IfNotPresent", terminationMessagePath: "/dev/termination-log", ports: [{ containerPort: 80, protocol: "TCP" }] },
      { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } }, revisionHistoryLimit: 10, progressDeadlineSeconds: 600 },
    );
    await assertSettled([explicit], [location("Deployment", "deployments", "apps", "minimal")]);
  });

  it("keeps int-or-string values as written: a number stays a number, a percentage a string", async () => {
    const service: KObject = { apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: h.namespace }, spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: 8080 }, { name: "alt", port: 81, targetPort: "http-alt" }] } };
    const surgePercent = workload("surge-percent", {}, { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%" } } });
    const surgeInt = workload("surge-int", {}, { strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } } });
    await actions([namespaceObject(h), service, surgePercent, surgeInt]);
    const live = await h.raw.get(location("Service", "services", "", "web"));
    assert.deepEqual((getPath(live, ["spec", "ports"]) as KObject[]).map((p) => p["targetPort"]), [8080, "http-alt"]);
    await assertSettled([service, surgePercent, surgeInt], [location("Service", "services", "", "web"), location("Deployment", "deployments", "apps", "surge-percent"), location("Deployment", "deployments", "apps", "surge-int")]);
  });

  it("fails a targetPort of digits written as a string, as the server does: it is a port name, not a number", async () => {
    const service: KObject = { apiVersion: "v1", kind: "Service", metadata: { name: "digits", namespace: h.namespace }, spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: "8080" }] } };
    const [, entry] = await actions([namespaceObject(h), service]);
    assert.match(entry ?? "", /Service\/digits failed: .*spec\.ports\[0\]\.targetPort: Invalid value: "8080": must contain at least one letter or number/);
  });
});
