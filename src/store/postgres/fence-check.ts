import type pg from "pg";
import { FencedError, type LeaseFence } from "../fence.ts";

/** A connection or a pool: what a write runs its statements on. */
export type Queryable = Pick<pg.PoolClient, "query">;

/** Refuses a fenced write unless its lease is held and unexpired; the row stays share-locked until the write commits, so a takeover waits for it. */
export async function checkFence(c: Queryable, f: LeaseFence): Promise<void> {
  const r = await c.query("SELECT 1 FROM leases WHERE environment = $1 AND stack = $2 AND owner = $3 AND epoch = $4 AND expires_at > now() FOR SHARE",
    [f.environment, f.stack, f.owner, f.epoch]);
  if (r.rowCount === 0) throw new FencedError(f, "store", "is no longer held");
}
