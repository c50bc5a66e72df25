import type { Plan } from "./change.ts";

/** The version of the JSON plan document; bumped on incompatible changes (docs/plan-json.md). */
export const planJsonVersion = 1;

/** The plan as the documented JSON document (docs/plan-json.md). */
export function planToJson(plan: Plan): string {
  const environments = plan.environments.map((e) => ({
    ...e,
    stacks: e.stacks.map((s) => ({ ...s, changes: s.changes.map(({ yaml: _markdownOnly, ...c }) => c) })),
  }));
  return JSON.stringify({ formatVersion: planJsonVersion, ...plan, environments }, null, 2) + "\n";
}
