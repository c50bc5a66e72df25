import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openStore } from "../../src/store/open.ts";
import { startAgentHarness } from "../support/agent-harness.ts";

const files = {
  "gitward.yaml": "version: 1\nenvironments:\n  dev:\n    targets: { cluster: { provider: kubernetes } }\n    sync: { auto: true }\nstacks:\n  app: { target: cluster, path: app }\n",
  "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: app, namespace: default }\ndata: { a: \"1\" }\n",
};

describe("agent readiness and the state store", () => {
  it("is not ready, saying 'state store unavailable', while the store reports itself unhealthy, and ready again after", async () => {
    const inner = await openStore("sqlite::memory:");
    let reachable = true;
    // The store as PostgreSQL's would be while it retries a lost connection.
    const store = new Proxy(inner, {
      get(target, prop): unknown {
        if (prop === "healthy") return () => reachable;
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const h = await startAgentHarness(files, { store });
    try {
      assert.deepEqual(h.agent.readiness(), { ready: true, reasons: [] });
      reachable = false;
      assert.deepEqual(h.agent.readiness(), { ready: false, reasons: ["state store unavailable"] });
      reachable = true;
      assert.equal(h.agent.readiness().ready, true);
    } finally {
      await h.close();
      await inner.close();
    }
  });
});
