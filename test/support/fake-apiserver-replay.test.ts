import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ControllerTiming, FakeApiServer } from "./fake-apiserver.ts";
import { readExchange, startFakeApiServer } from "./fake-apiserver.ts";
import type { ExtraRequest } from "./fake-apiserver/replay.ts";
import { ReplaySession } from "./fake-apiserver/replay.ts";

// The recorded sequences of 03-apply, 04-errors and 05-crd replayed in order against one fake
// each: every answer must match the recorded one (see ReplaySession for what "match" means).
// Where the recording session made a request it did not save, the step is re-created here.

const skip = process.env["GITWARD_TEST_KUBECONFIG"] !== undefined && process.env["GITWARD_TEST_KUBECONFIG"] !== "";

/** One step of a replay: a recorded exchange, a request the recording did not save, or a pause for controllers. */
type Step =
  | string
  /** A recorded exchange sent with headers the recording left out. */
  | { readonly recorded: string; readonly headers: Readonly<Record<string, string>> }
  | { readonly extra: ExtraRequest; readonly why: string; readonly expect?: number }
  | { readonly wait: number };

const apply = (url: string, yaml: string): ExtraRequest => ({ method: "PATCH", url, contentType: "application/apply-patch+yaml", body: yaml });

const appConfigGreenLarge = apply(
  "/api/v1/namespaces/gitward-demo/configmaps/app-config?fieldManager=gitward",
  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app-config\n  namespace: gitward-demo\n  labels:\n    gitward.dev/stack: demo\ndata:\n  color: green\n  size: large\n",
);

const applySteps: Step[] = [
  "01-apply-namespace-create-201",
  "02-apply-configmap-create-201",
  "03-apply-configmap-unchanged-200",
  "04-apply-configmap-changed-value-200",
  "05-apply-configmap-dryrun-changed-200",
  "06-get-configmap-after-dryrun",
  "07-apply-configmap-json-body-unchanged-200",
  "08-apply-configmap-omit-key-removes-it-200",
  "09-apply-deployment-create-201",
  { wait: 100 },
  "10-get-deployment-defaulted-and-managedfields",
  { why: "the recording re-applied data.size before 11 (resourceVersion 330 → 331)", extra: appConfigGreenLarge, expect: 200 },
  "11-get-configmap-before-edit",
  "12-put-configmap-by-kubectl-edit-200",
  "13-apply-configmap-conflict-with-kubectl-edit-409",
  "14-apply-configmap-force-200",
  "15-apply-deployment-by-other-conflict-409",
  "16-apply-deployment-by-other-force-200",
  { wait: 100 },
  "17-apply-deployment-gitward-conflict-with-other-409",
  "18-apply-deployment-gitward-force-200",
  { wait: 100 },
  "19-get-deployment-after-takeover",
  "20-apply-configmap-other-same-value-shared-ownership-200",
  "21-apply-without-fieldmanager-422",
  "22-apply-name-mismatch-with-url-400",
  "23-apply-kind-mismatch-with-url-500",
  "24-apply-namespace-mismatch-with-url-400",
  "25-apply-body-without-apiversion-kind-400",
  "26-apply-malformed-yaml-400",
  "27-apply-configmap-dryrun-create-201",
  "28-get-configmap-after-dryrun-create-404",
  "29-merge-patch-configmap-annotation",
  "30-json-patch-configmap",
  "31-json-patch-failed-test-422",
  "32-strategic-merge-patch-deployment",
  "33-list-configmaps-in-namespace",
  "34-apply-configmap-yaml11-boolean-like-keys",
  "35-apply-configmap-unquoted-boolean-value-500",
];

describe("03-apply replayed against the fake", { skip }, () => replay("03-apply", applySteps));

const ns = (name: string): Step => ({
  why: `namespace ${name}`,
  extra: apply(`/api/v1/namespaces/${name}?fieldManager=gitward`, `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`),
  expect: 201,
});
const configMap = (namespace: string, name: string, body: string): Step => ({
  why: `ConfigMap ${namespace}/${name}`,
  extra: apply(`/api/v1/namespaces/${namespace}/configmaps/${name}?fieldManager=gitward`, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\n${body}`),
  expect: 201,
});
const item = (i: number, tier: string): Step =>
  configMap("gitward-errors", `item-${i}`, `  labels:\n    gitward.dev/stack: list-demo\n    tier: ${tier}\ndata:\n  i: "${i}"\n`);
const deployment = (namespace: string, name: string, app: string, replicas: number): Step => ({
  why: `Deployment ${namespace}/${name}`,
  extra: apply(
    `/apis/apps/v1/namespaces/${namespace}/deployments/${name}?fieldManager=gitward`,
    `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\n  namespace: ${namespace}\n  labels:\n    app: ${app}\n` +
      `spec:\n  replicas: ${replicas}\n  selector:\n    matchLabels:\n      app: ${app}\n  template:\n    metadata:\n      labels:\n        app: ${app}\n` +
      "    spec:\n      containers:\n      - name: c\n        image: nginx\n",
  ),
  expect: 201,
});
const remove = (url: string): Step => ({ why: `DELETE ${url}`, extra: { method: "DELETE", url }, expect: 200 });

const errorSteps: Step[] = [
  "01-get-missing-configmap-404",
  "02-get-object-in-missing-namespace-404",
  ns("gitward-errors"),
  "03-post-configmap-create-201",
  "04-post-configmap-already-exists-409",
  "05-put-configmap-current-resourceversion-200",
  "06-put-configmap-stale-resourceversion-409",
  "07-put-configmap-without-resourceversion-200",
  "08-put-missing-object-404",
  "09-apply-deployment-selector-mismatch-422",
  "10-apply-configmap-invalid-name-422",
  "11-post-configmap-invalid-name-and-key-422",
  "12-apply-deployment-missing-required-fields-422",
  "13-apply-wrong-field-type-500",
  "14-apply-unknown-field-typed-object-500",
  "15-post-unknown-field-fieldValidation-Strict-ignored-201",
  deployment("gitward-errors", "immut", "a", 0),
  "16-apply-deployment-change-immutable-selector-422",
  configMap("gitward-errors", "frozen", 'immutable: true\ndata:\n  a: "1"\n'),
  "17-apply-immutable-configmap-change-422",
  "18-apply-unknown-group-404",
  "19-apply-unknown-resource-in-known-group-404",
  "20-get-unknown-core-resource-404",
  "21-apply-kind-not-matching-url-resource-500",
  "22-patch-unsupported-content-type-406",
  "23-post-to-named-object-405",
  "24-post-malformed-json-400",
  "25-post-namespace-mismatch-400",
  item(1, "a"),
  item(2, "a"),
  item(3, "a"),
  item(4, "b"),
  item(5, "b"),
  "26-list-configmaps-labelselector",
  "27-list-configmaps-labelselector-set-based",
  "28-list-configmaps-invalid-labelselector-400",
  "29-list-configmaps-fieldselector",
  "30-list-configmaps-limit2-page1",
  "31-list-configmaps-limit2-page2",
  "32-list-configmaps-limit2-page3-last",
  "33-list-configmaps-invalid-continue-400",
  "34-list-configmaps-all-namespaces-labelselector",
  "35-list-deployments-empty",
  // The README says the client sent this User-Agent; the recorded headers do not show it.
  { recorded: "37-post-configmap-no-fieldmanager-user-agent-manager", headers: { "user-agent": "gitward/0.1.0 (linux; node)" } },
  remove("/api/v1/namespaces/gitward-errors/configmaps/existing"),
  remove("/api/v1/namespaces/gitward-errors/configmaps/strict-check"),
  remove("/api/v1/namespaces/gitward-errors/configmaps/ua-manager"),
  remove("/apis/apps/v1/namespaces/gitward-errors/deployments/immut"),
  "39-list-configmaps-limit2-no-selector-remainingItemCount",
  ns("gitward-status"),
  "39b-apply-deprecated-api-warning-header",
  ns("gitward-delete"),
  configMap("gitward-delete", "cm-1", '  labels:\n    tier: a\ndata:\n  i: "1"\n'),
  configMap("gitward-delete", "cm-2", '  labels:\n    tier: b\ndata:\n  i: "2"\n'),
  configMap("gitward-delete", "cm-3", '  labels:\n    tier: b\ndata:\n  i: "3"\n'),
  deployment("gitward-delete", "del-fg", "del-fg", 1),
  deployment("gitward-delete", "del-bg", "del-bg", 1),
  deployment("gitward-delete", "del-orphan", "del-orphan", 1),
  deployment("gitward-delete", "del-default", "del-default", 1),
  { wait: 100 },
  "41-delete-configmap-200",
  "42-delete-missing-configmap-404",
  "43-delete-deployment-foreground-body",
  "44-get-deployment-during-foreground-delete",
  "45-delete-deployment-background-body",
  "46-delete-deployment-orphan-query",
  "47-delete-deployment-dryrun",
  "48-delete-deployment-precondition-uid-mismatch-409",
  "49-delete-deployment-no-options",
  { wait: 150 },
  "50-get-deployment-after-foreground-delete-404",
  "52-deletecollection-configmaps-labelselector",
  {
    why: "namespace gitward-terminating, created without managedFields as recorded",
    extra: { method: "POST", url: "/api/v1/namespaces", contentType: "application/json", body: JSON.stringify({ metadata: { name: "gitward-terminating", managedFields: [{}] } }) },
    expect: 201,
  },
  configMap("gitward-terminating", "held", '  finalizers:\n  - gitward.dev/hold\ndata:\n  a: "1"\n'),
  "60-delete-namespace",
  { wait: 150 },
  "61-get-namespace-terminating",
  "62-get-configmap-with-finalizer-in-terminating-namespace",
  "63-apply-new-configmap-in-terminating-namespace-403",
  "64-post-configmap-in-terminating-namespace-403",
  "65-apply-namespace-while-terminating",
  "66-remove-finalizer-json-patch",
  { wait: 150 },
  "67-get-namespace-after-termination-404",
];

describe("04-errors replayed against the fake", { skip }, () => replay("04-errors", errorSteps));

const gadgetCrd = apply(
  "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.gitward.example.com?fieldManager=gitward",
  "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gadgets.gitward.example.com\nspec:\n" +
    "  group: gitward.example.com\n  scope: Namespaced\n  names:\n    plural: gadgets\n    kind: Gadget\n  versions:\n  - name: v1\n" +
    "    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        x-kubernetes-preserve-unknown-fields: true\n",
);

const crdSteps: Step[] = [
  "01-apply-crd-create-201",
  { wait: 150 },
  "02-get-crd-immediately-after-create",
  "03-get-crd-established",
  "04-get-apis-gitward.example.com-v1-discovery",
  "05-get-apis-gitward.example.com-group",
  ns("gitward-crd"),
  "06-apply-widget-create-201",
  "07-apply-widget-unchanged-200",
  "08-apply-widget-invalid-enum-and-maximum-422",
  "08b-apply-widget-wrong-item-types-500",
  "09-apply-widget-missing-required-422",
  "10-apply-widget-wrong-type-500",
  "10b-post-widget-wrong-type-422",
  "11-apply-widget-unknown-fields-500",
  "12-post-widget-unknown-fields-pruned-Strict-ignored-201",
  "13-apply-widget-with-status-ignored-on-main-resource-200",
  "14-apply-widget-status-subresource-200",
  "15-apply-widget-spec-change-bumps-generation-200",
  "16-merge-patch-widget-status-200",
  "17-strategic-merge-patch-widget-415",
  "18-get-widget",
  "19-list-widgets",
  "20-list-widgets-all-namespaces",
  "21-get-missing-widget-404",
  "22-apply-widget-unserved-version-404",
  "23-apply-invalid-crd-422",
  "25-get-apis-after-crd-established",
  { why: "the gadgets CRD (its apply was not saved)", extra: gadgetCrd, expect: 201 },
  { wait: 150 },
  "26-apply-gadget-preserve-unknown-fields-201",
  "27-delete-crd-with-instances",
  { wait: 100 },
  "28-get-crd-terminating",
  "29-apply-gadget-while-crd-terminating-201-accepted",
  "29b-post-gadget-while-crd-terminating-405",
  "30-get-gadget-being-deleted",
  {
    why: "the recording removed the Gadget's finalizer",
    extra: {
      method: "PATCH",
      url: "/apis/gitward.example.com/v1/namespaces/gitward-crd/gadgets/g1",
      contentType: "application/json-patch+json",
      body: '[{"op":"remove","path":"/metadata/finalizers"}]',
    },
    expect: 200,
  },
  { wait: 100 },
  "31-get-crd-after-delete-404",
  "32-get-gadget-after-crd-deleted-404",
];

describe("05-crd replayed against the fake", { skip }, () => replay("05-crd", crdSteps));

// Waits stand where the recording's controller had written before the next request, and only there.
const normalizationSteps: Step[] = [
  "01-apply-namespace-create-201",
  "02-apply-deployment-noncanonical-quantities-create-201",
  { wait: 1000 },
  "03-get-deployment-quantities-canonicalized",
  "04-apply-configmap-quantity-like-strings-kept-as-sent-create-201",
  "05-apply-deployment-same-noncanonical-body-writes-200",
  "06-get-deployment-after-same-body-reapply",
  "07-apply-deployment-same-noncanonical-body-2s-later-writes-again-200",
  "08-get-deployment-after-second-same-body-reapply",
  "09-apply-deployment-canonical-quantities-noop-200",
  "10-get-deployment-after-canonical-apply",
  "11-apply-configmap-unchanged-2s-later-noop-200",
  "12-get-configmap-after-noop-apply",
  "13-apply-deployment-minimal-create-201",
  { wait: 1000 },
  "14-get-deployment-minimal-defaulted",
  "15-apply-deployment-minimal-explicit-defaults-writes-200",
  "16-get-deployment-explicit-defaults-now-owned-by-gitward",
  "17-apply-service-targetport-string-digits-422",
  "18-get-service-targetport-string-digits-404",
  "19-apply-service-targetport-int-201",
  "20-get-service-targetport-int",
  "21-apply-deployment-maxsurge-percent-string-201",
  "22-get-deployment-maxsurge-percent-string",
  "23-apply-deployment-maxsurge-int-201",
  "24-get-deployment-maxsurge-int",
  "25-apply-deployment-minreadyseconds-3-create-201",
  { wait: 1000 },
  "26-merge-patch-minreadyseconds-9-by-kubectl-patch-200",
  "27-get-deployment-kubectl-patch-owns-minreadyseconds",
  "28-apply-minreadyseconds-conflict-with-kubectl-patch-409",
  { wait: 1000 },
  "29-apply-minreadyseconds-force-200",
  "30-get-deployment-gitward-owns-minreadyseconds-again",
  "31-apply-deployment-replicas-2-create-201",
  { wait: 1000 },
  "32-merge-patch-scale-subresource-replicas-5-by-kubectl-scale-200",
  "33-get-deployment-kubectl-scale-owns-replicas",
  "34-apply-replicas-conflict-with-kubectl-scale-409",
  { wait: 1000 },
  "35-apply-replicas-force-200",
  "36-get-deployment-gitward-owns-replicas-again",
  "37-apply-deployment-status-writes-create-201",
  "38-get-deployment-right-after-create",
  { wait: 1000 },
  "39-get-deployment-3s-later-status-written",
  "40-apply-deployment-noncanonical-dryrun-200",
  "41-get-deployment-after-dryrun",
];

// The deployment controller writes 400 ms after a change here (20 ms by default), and the waits
// are 1 s: a request that follows another at once on a loaded machine (CI runs two test files
// at a time) still comes before the controller, as in the recording.
describe("08-normalization replayed against the fake", { skip }, () => replay("08-normalization", normalizationSteps, { deploymentStatusDelayMs: 400 }));



function replay(folder: string, steps: readonly Step[], timing: Partial<ControllerTiming> = {}): void {
  let fake: FakeApiServer;
  let session: ReplaySession;
  let tick = 0;
  before(async () => {
    // A clock one second further for every request, so that any new timestamp differs.
    fake = await startFakeApiServer({ clock: () => new Date(Date.UTC(2026, 10, 22, 3, 52) + tick * 1000), timing });
    session = new ReplaySession(fake);
  });
  after(async () => {
    assert.deepEqual(fake.controllerErrors, []);
    await fake.close();
  });
  for (const step of steps) {
    if (typeof step === "string" || "recorded" in step) {
      const name = typeof step === "string" ? step : step.recorded;
      it(name, async () => {
        tick += 1;
        const exchange = await readExchange(`${folder}/${name}.json`);
        const headers = typeof step === "string" ? {} : step.headers;
        const { problems } = await session.replay({ ...exchange, request: { ...exchange.request, headers: { ...exchange.request.headers, ...headers } } });
        assert.deepEqual(problems, []);
      });
    } else if ("wait" in step) {
      it(`(waits ${step.wait} ms for the controllers)`, () => new Promise((resolve) => setTimeout(resolve, step.wait)));
    } else {
      it(`(unrecorded step: ${step.why})`, async () => {
        tick += 1;
        const answer = await session.send(step.extra);
        if (step.expect !== undefined) assert.equal(answer.status, step.expect, answer.text);
      });
    }
  }
}
