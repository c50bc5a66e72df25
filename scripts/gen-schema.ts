// Writes schema/gitward.schema.json from the zod schema, for editor completion.
import { writeFileSync } from "node:fs";
import { z } from "zod";
import { configSchema } from "../src/config/schema.ts";

const json = z.toJSONSchema(configSchema, { io: "input", target: "draft-2020-12" });
const doc = {
  $id: "https://gitward.dev/schema/gitward.schema.json",
  title: "gitward.yaml",
  description: "gitward repository configuration, version 1",
  ...json,
};
const out = new URL("../schema/gitward.schema.json", import.meta.url);
writeFileSync(out, JSON.stringify(doc, null, 2) + "\n");
process.stderr.write(`wrote ${out.pathname}\n`);
