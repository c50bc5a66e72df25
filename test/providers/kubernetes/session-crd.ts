import type { KObject } from "../../../src/core/object.ts";

/** A Widget-like CRD under a group of the test's own, so tests on a real cluster never share one. */
export interface TestCrd {
  readonly object: KObject;
  readonly group: string;
  readonly kind: string;
  readonly plural: string;
}

/** A namespaced CRD `Widget` in `group`, served at v1, with a validated spec and a status subresource. */
export function widgetCrd(group: string): TestCrd {
  const plural = "widgets";
  return {
    group,
    kind: "Widget",
    plural,
    object: {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: `${plural}.${group}` },
      spec: {
        group,
        scope: "Namespaced",
        names: { plural, singular: "widget", kind: "Widget", listKind: "WidgetList" },
        versions: [{
          name: "v1",
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: "object",
              properties: {
                spec: { type: "object", required: ["size"], properties: { size: { type: "integer", minimum: 1, maximum: 10 }, color: { type: "string" } } },
                status: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
              },
            },
          },
        }],
      },
    },
  };
}

/** A Widget of a test CRD. */
export function widget(crd: TestCrd, namespace: string, name: string, size = 3): KObject {
  return { apiVersion: `${crd.group}/v1`, kind: crd.kind, metadata: { name, namespace }, spec: { size, color: "red" } };
}
