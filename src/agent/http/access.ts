/**
 * The access model of the agent's HTTP API: roles granted per environment, the principal a
 * request acts as, and the pure checks of what that principal may do. No I/O and no framework
 * imports, so the API, the OIDC login and the CLI all share one definition of "allowed".
 */

/** The roles, from least to most powerful; each includes everything the ones before it can do. */
export const ROLES = ["viewer", "operator", "admin"] as const;

/** A role: `viewer` reads, `operator` also syncs and rolls back, `admin` also manages tokens and settings. */
export type Role = (typeof ROLES)[number];

/** The environment name that stands for every environment in a grant. */
export const ALL_ENVIRONMENTS = "*";

/** A role on a set of environments (`["*"]` covers all of them). */
export interface Grant {
  readonly role: Role;
  readonly environments: readonly string[];
}

/** How a principal authenticated. */
export type PrincipalKind = "token" | "legacy-token" | "oidc" | "anonymous";

/** Who a request acts as: its name (token name, `oidc:<sub>`, `anonymous`) and its grants. */
export interface Principal {
  readonly kind: PrincipalKind;
  readonly name: string;
  /** The OIDC subject, when the principal logged in through OIDC. */
  readonly subject?: string;
  readonly grants: readonly Grant[];
}

/** What a request wants to do; each action needs a role on an environment (or on `*`). */
export type Action = "read" | "sync" | "rollback" | "audit" | "tokens";

/** Every action, for tables and validation. */
export const ACTIONS: readonly Action[] = ["read", "sync", "rollback", "audit", "tokens"];

/** Whether a string is a role name. */
export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** The rank of a role: higher ranks include the powers of lower ones. */
export function roleRank(role: Role): number {
  return ROLES.indexOf(role);
}

/** The role an action needs. */
export function requiredRole(action: Action): Role {
  switch (action) {
    case "read":
    case "audit":
      return "viewer";
    case "sync":
    case "rollback":
      return "operator";
    case "tokens":
      return "admin";
  }
}

/**
 * Whether an action is checked against every environment rather than one: the audit log spans
 * all environments and tokens can act anywhere, so partial grants must not reach them.
 */
export function needsAllEnvironments(action: Action): boolean {
  return action === "audit" || action === "tokens";
}

function covers(grant: Grant, environment: string): boolean {
  if (grant.environments.includes(ALL_ENVIRONMENTS)) return true;
  // A grant on named environments never covers "*": that would widen it to all of them.
  return environment !== ALL_ENVIRONMENTS && grant.environments.includes(environment);
}

/**
 * The principal's role on an environment: the highest role among the grants covering it, or
 * undefined when none does. Pass `"*"` to ask for the role held on every environment at once.
 */
export function roleOn(principal: Principal, environment: string): Role | undefined {
  let best: Role | undefined;
  for (const grant of principal.grants) {
    if (!covers(grant, environment)) continue;
    if (best === undefined || roleRank(grant.role) > roleRank(best)) best = grant.role;
  }
  return best;
}

/** Whether the principal holds at least `role` on the environment. */
export function hasRole(principal: Principal, role: Role, environment: string): boolean {
  const held = roleOn(principal, environment);
  return held !== undefined && roleRank(held) >= roleRank(role);
}

/**
 * Whether the principal may perform the action. `read`, `sync` and `rollback` are checked on
 * `environment` (without one: on every environment); `audit` and `tokens` always on `*`.
 */
export function can(principal: Principal, action: Action, environment?: string): boolean {
  const scope = needsAllEnvironments(action) ? ALL_ENVIRONMENTS : (environment ?? ALL_ENVIRONMENTS);
  return hasRole(principal, requiredRole(action), scope);
}

/** The environments among `all` that the principal may read, in the order given. */
export function readableEnvironments(principal: Principal, all: readonly string[]): string[] {
  return all.filter((environment) => can(principal, "read", environment));
}

/**
 * A one-line reason for a denial, naming the role needed and where, for 403 messages:
 * `sync needs operator on environment "prod"`.
 */
export function denialReason(action: Action, environment?: string): string {
  const scope = needsAllEnvironments(action) || environment === undefined
    ? "every environment (*)"
    : `environment "${environment}"`;
  return `${action} needs ${requiredRole(action)} on ${scope}`;
}

/** The anonymous principal: viewer on every environment (used only when anonymous reads are allowed). */
export function anonymousPrincipal(): Principal {
  return { kind: "anonymous", name: "anonymous", grants: [{ role: "viewer", environments: [ALL_ENVIRONMENTS] }] };
}
