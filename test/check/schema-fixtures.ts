import type { JsonValue, KObject } from "../../src/core/object.ts";

/** Objects for the schema validator tests: valid by default, with one part swapped by a test. */

/** A valid Deployment; `spec` fields given replace the defaults, undefined removes one. */
export function deployment(spec: Record<string, JsonValue | undefined> = {}): KObject {
  const merged: Record<string, JsonValue | undefined> = {
    replicas: 2,
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web" } },
      spec: { containers: [{ name: "web", image: "nginx:1.27", ports: [{ containerPort: 80 }] }] },
    },
    ...spec,
  };
  const clean: Record<string, JsonValue> = {};
  for (const [k, v] of Object.entries(merged)) if (v !== undefined) clean[k] = v;
  return { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "demo" }, spec: clean };
}

/** A valid Deployment whose one container has `fields` added or replaced. */
export function withContainer(fields: Record<string, JsonValue>): KObject {
  return deployment({
    template: {
      metadata: { labels: { app: "web" } },
      spec: { containers: [{ name: "web", image: "nginx:1.27", ...fields }] },
    },
  });
}

/** A Service with one port whose targetPort is `targetPort`. */
export function service(targetPort: JsonValue): KObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: "demo" },
    spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort }] },
  };
}

/** A valid ConfigMap. */
export function configMap(): KObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "app-config" }, data: { color: "green", size: "10" } };
}

/** A valid CustomResourceDefinition, the Widget of the recordings. */
export function crd(): KObject {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "widgets.gitward.example.com" },
    spec: {
      group: "gitward.example.com",
      scope: "Namespaced",
      names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: "object",
              properties: {
                spec: {
                  type: "object",
                  required: ["size", "color"],
                  properties: {
                    size: { type: "integer", minimum: 1, maximum: 10 },
                    color: { type: "string", enum: ["red", "green", "blue"] },
                    anything: { "x-kubernetes-preserve-unknown-fields": true },
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
}

/** A valid Widget (the recordings' CRD instance). */
export function widget(spec: Record<string, JsonValue>): KObject {
  return { apiVersion: "gitward.example.com/v1", kind: "Widget", metadata: { name: "w", namespace: "demo" }, spec };
}
