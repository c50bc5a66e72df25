import type { Logger } from "pino";
import { PendingRecords } from "../engine/pending-records.ts";
export type { PendingRecords } from "../engine/pending-records.ts";

/** The agent's holder of records the state store could not take, saying in its log when each is written or dropped. */
export function pendingRecords(logger: Logger): PendingRecords {
  return new PendingRecords({
    onSettled: (what, outcome, error) => {
      if (outcome === "written") logger.info({ record: what }, "a record held while the state store was unavailable is written");
      else logger.warn({ record: what, err: error instanceof Error ? error.message : String(error) }, "a record held while the state store was unavailable was refused; dropped");
    },
  });
}
