import { createHash } from "node:crypto";
import type { StackRef } from "../provider.ts";

/**
 * The name of a stack's inventory ConfigMap: `gitward-<environment>-<stack>`. A name that would
 * be ambiguous (an environment with a `-`: `a-b`+`c` and `a`+`b-c` would meet) or is not a DNS
 * label as it stands (too long, characters a name cannot hold) is cleaned, cut and given a hash
 * of the exact environment and stack, so two stacks never share one.
 */

const maxLength = 63;

/** The inventory ConfigMap's name for a stack. */
export function inventoryName(stack: StackRef): string {
  const plain = `gitward-${stack.environment}-${stack.stack}`;
  if (plain.length <= maxLength && !stack.environment.includes("-") && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(plain)) return plain;
  const hash = createHash("sha256").update(`${stack.environment}\n${stack.stack}`).digest("hex").slice(0, 10);
  const cleaned = plain.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/-+/g, "-");
  const head = cleaned.slice(0, maxLength - hash.length - 1).replace(/-+$/, "");
  return `${head}-${hash}`;
}
