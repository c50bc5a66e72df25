import { isDeepStrictEqual } from "node:util";
import { stringify } from "yaml";
import { maskSecrets } from "../core/mask-secrets.ts";
import type { KObject } from "../core/object.ts";
import { unifiedHunks } from "../core/text-diff.ts";
import { withProviderDefaults } from "./provider-defaults.ts";

/**
 * True when two objects hold the same desired state: equal once the provider's defaults are
 * filled in on both sides ({@link withProviderDefaults}), so that writing a default is no change.
 */
export function sameObject(a: KObject, b: KObject): boolean {
  return isDeepStrictEqual(withProviderDefaults(a), withProviderDefaults(b));
}

/**
 * A unified diff of two objects as YAML, secret values masked, without file headers:
 * `@@` hunks with three lines of context, the form reviewers know from Git ({@link unifiedHunks}).
 */
export function diffObjects(before: KObject, after: KObject, fields?: readonly string[]): string {
  return unifiedHunks(toYaml(maskSecrets(before, { fields })), toYaml(maskSecrets(after, { before, fields })));
}

/** An object as YAML, secret values masked (and `fields`, those that hold SOPS data): what a new object shows in a plan. */
export function objectYaml(obj: KObject, fields?: readonly string[]): string {
  return toYaml(maskSecrets(obj, { fields })).trimEnd();
}

function toYaml(obj: KObject): string {
  return stringify(obj, { version: "1.2", lineWidth: 0, sortMapEntries: false });
}
