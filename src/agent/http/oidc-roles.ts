import type { Grant, Role } from "./access.ts";

/** One line of `oidc.roles`: members of `group` get `role` on `environments` (`["*"]` for all). */
export interface GroupRole {
  readonly group: string;
  readonly role: Role;
  readonly environments: readonly string[];
}

/**
 * The groups a provider states for a user, read from a claim: a list of strings (Keycloak, Dex,
 * Okta, Entra ID) or one space-separated string. Anything else counts as no groups, so a
 * misconfigured claim refuses the login rather than granting something unexpected.
 */
export function groupsFromClaim(claims: Readonly<Record<string, unknown>>, claim: string): string[] {
  const value = claims[claim];
  if (Array.isArray(value)) return value.filter((g): g is string => typeof g === "string" && g !== "");
  if (typeof value === "string") return value.split(/\s+/).filter((g) => g !== "");
  return [];
}

/** The grants a user's groups map to through `oidc.roles`; empty when none matches (the login is refused). */
export function grantsForGroups(groups: readonly string[], mapping: readonly GroupRole[]): Grant[] {
  const member = new Set(groups);
  return mapping.filter((m) => member.has(m.group)).map((m) => ({ role: m.role, environments: [...m.environments] }));
}
