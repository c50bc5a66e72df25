import type { Plan } from "./change.ts";

/** The version of the JSON plan document; bumped on incompatible changes (docs/plan-json.md). */
export const planJsonVersion = 1;

/** The plan as the documented JSON document. */
export function planToJson(plan: Plan): string {
  return JSON.stringify({ formatVersion: planJsonVersion, ...plan }, null, 2) + "\n";
}
