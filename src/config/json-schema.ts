import { z } from "zod";
import { configSchema } from "./schema.ts";

/** The JSON Schema of gitward.yaml, generated from the zod schema, for editor completion. */
export function configJsonSchema(): Record<string, unknown> {
  return {
    $id: "https://gitward.dev/schema/gitward.schema.json",
    title: "gitward.yaml",
    description: "gitward repository configuration, version 1",
    ...z.toJSONSchema(configSchema, { io: "input", target: "draft-2020-12" }),
  };
}
