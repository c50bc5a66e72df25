// Writes schema/gitward.schema.json from the zod schema; a test fails when it is stale.
import { writeFileSync } from "node:fs";
import { configJsonSchema } from "../src/config/json-schema.ts";

const out = new URL("../schema/gitward.schema.json", import.meta.url);
writeFileSync(out, JSON.stringify(configJsonSchema(), null, 2) + "\n");
process.stderr.write(`wrote ${out.pathname}\n`);
