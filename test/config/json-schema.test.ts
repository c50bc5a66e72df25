import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { configJsonSchema } from "../../src/config/json-schema.ts";

describe("schema/gitward.schema.json", () => {
  it("is up to date with the zod schema (regenerate with `make schema`)", () => {
    const committed: unknown = JSON.parse(readFileSync(new URL("../../schema/gitward.schema.json", import.meta.url), "utf8"));
    assert.deepEqual(committed, JSON.parse(JSON.stringify(configJsonSchema())));
  });

  it("refuses unknown keys, like the loader", () => {
    const schema = configJsonSchema() as { additionalProperties?: unknown };
    assert.equal(schema.additionalProperties, false);
  });
});
