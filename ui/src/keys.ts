/**
 * TanStack Query keys, in one place, so the live event stream invalidates exactly what the
 * pages read. Keys are prefixes of each other where one refresh should cover several reads:
 * `["stack", env, name]` covers the stack's detail and its diff.
 */

/** A query key: plain JSON values. */
export type Key = readonly (string | number | Readonly<Record<string, string>>)[];

/** Every key the UI uses. */
export const keys = {
  me: (): Key => ["me"],
  status: (): Key => ["status"],
  environments: (): Key => ["environments"],
  stacks: (): Key => ["stacks"],
  stack: (environment: string, stack: string): Key => ["stack", environment, stack],
  stackDetail: (environment: string, stack: string): Key => ["stack", environment, stack, "detail"],
  diff: (environment: string, stack: string): Key => ["stack", environment, stack, "diff"],
  /** Every history list; with a filter, the lists of that environment (and stack). */
  history: (filter?: { environment: string; stack?: string }): Key =>
    filter === undefined ? ["history"] : ["history", filter.environment, ...(filter.stack === undefined ? [] : [filter.stack])],
  drift: (filter?: { environment: string; stack?: string }): Key =>
    filter === undefined ? ["drift"] : ["drift", filter.environment, ...(filter.stack === undefined ? [] : [filter.stack])],
  gate: (): Key => ["gate"],
  audit: (): Key => ["audit"],
  tokens: (): Key => ["tokens"],
};
