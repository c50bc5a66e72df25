import type { JsonValue, KObject } from "../core/object.ts";
import { isRecord } from "../core/object.ts";
import { parseHostObject } from "../providers/host/kinds.ts";

/**
 * An object in the form its provider reads it, for comparing two revisions of it: a field left
 * out holds the provider's default, and a value the provider reads the same whatever its spelling
 * has one spelling. So adding `mode: "0644"` to a host File (the default), or writing `"644"` for
 * `"0644"`, is no change, as apply reports none. Host `File` and `Directory` objects are
 * normalized as the host provider parses them ({@link parseHostObject}); objects it would refuse,
 * and those of other providers (Kubernetes defaults are the API server's, unknown offline), are
 * returned as they are.
 */
export function withProviderDefaults(obj: KObject): KObject {
  const { spec } = parseHostObject(obj);
  const written = obj["spec"];
  if (spec === undefined || !isRecord(written)) return obj;
  const normal: Record<string, JsonValue> = { ...written, path: spec.path, mode: octal(spec.mode) };
  if (spec.owner !== undefined) normal["owner"] = spec.owner;
  if (spec.group !== undefined) normal["group"] = spec.group;
  if (spec.kind === "Directory") normal["purge"] = spec.purge;
  else normal["sensitive"] = spec.sensitive;
  return { ...obj, spec: normal };
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, "0");
}
