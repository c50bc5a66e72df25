import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AgentStatus } from "../../../src/agent/status.ts";
import { gateOf } from "../../../src/agent/http/views.ts";

const env = (name: string, refused?: string[]): AgentStatus["environments"][number] => ({
  name, auto: true, prune: true, selfHeal: false, stacks: [], ...(refused === undefined ? {} : { refused }),
});

describe("the API's gate of an environment", () => {
  it("is refused only where the head is refused for that environment, not wherever some environment refused it", () => {
    const dev = env("dev");
    const prod = env("prod", ["prod: commit abc is not signed by a trusted key"]);
    const status: AgentStatus = {
      repo: "r", branch: "main", environments: [dev, prod], queue: { depth: 0, inFlight: 0 }, loops: {},
      // The head's refusals across environments, as gitward status lists them.
      refused: { revision: "a".repeat(40), reasons: ["prod: commit abc is not signed by a trusted key"] },
    };
    assert.deepEqual(gateOf(status, dev), { state: "open", reasons: [] });
    assert.deepEqual(gateOf(status, prod), { state: "refused", reasons: ["prod: commit abc is not signed by a trusted key"] });
  });
});
