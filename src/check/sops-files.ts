import { parse } from "yaml";
import type { KObject, RenderedObject } from "../core/object.ts";
import { isRecord } from "../core/object.ts";
import { sopsMetadataOf } from "../sops/format.ts";
import { readYamlSopsFile } from "../sops/yaml-file.ts";
import type { Finding } from "./finding.ts";
import { checkSops, type SopsRecipients } from "./sops.ts";

/**
 * The keyless checks of {@link checkSops} for a host File whose `spec.source` is a SOPS file
 * (YAML, JSON, dotenv, INI or binary): its metadata, its recipients against the environment's,
 * and, for YAML and JSON, values left in clear. Findings point at the File and say `spec.source`.
 */
export function checkSopsFile(obj: RenderedObject, environment: string, recipients: SopsRecipients): Finding[] {
  if (obj.sopsFile === undefined) return [];
  const spec = obj.object["spec"];
  const content = isRecord(spec) && typeof spec["content"] === "string" ? spec["content"] : "";
  let doc: KObject;
  try {
    doc = documentOf(content, obj.sopsFile);
  } catch (e: unknown) {
    return [{
      severity: "error", rule: "sops.metadata", field: "spec.source", ref: obj.ref, location: obj.source,
      message: `spec.source is a ${obj.sopsFile} SOPS file that cannot be read: ${e instanceof Error ? e.message : String(e)}`,
      hint: "re-encrypt the file with sops",
    }];
  }
  return checkSops({ ...obj, object: doc }, environment, recipients).map((f) => ({
    ...f, field: "spec.source", message: `spec.source (${obj.sopsFile} file): ${f.message}`,
  }));
}

/** The file as a document with a `sops` map: values and all for YAML and JSON, the metadata only for the others. */
function documentOf(content: string, format: NonNullable<RenderedObject["sopsFile"]>): KObject {
  if (format === "json") {
    const parsed: unknown = JSON.parse(content);
    if (isRecord(parsed)) return parsed;
  }
  if (format === "yaml") {
    // One document: checked whole, as a manifest is; several: their metadata.
    const whole: unknown = readYamlSopsFile(content).branches.length === 1 ? parse(content, { version: "1.2", uniqueKeys: false }) : undefined;
    if (isRecord(whole) && isRecord(whole["sops"])) return whole;
  }
  return { sops: sopsMetadataOf(Buffer.from(content, "utf8"), format) };
}
