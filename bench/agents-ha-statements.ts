/**
 * Counting the statements the agents send, for the several-agents benchmark's `--statements`
 * run: PostgreSQL logs every statement of one database (`log_statement = 'all'`, sessions opened
 * after it is set), and the server log of the throwaway cluster is read back and tallied by the
 * statement's first words. Logging slows the server: a run that counts is not a run that times.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import type { TestPostgres } from "../test/support/postgres.ts";

/** Where counting starts: the server log and its size when logging was turned on. */
export interface StatementLog {
  readonly path: string;
  readonly offset: number;
}

/** Turns statement logging on for `db` (new sessions) and returns where the log stands now. */
export async function logStatements(server: TestPostgres, db: string): Promise<StatementLog> {
  await server.sql(`ALTER DATABASE "${db}" SET log_statement = 'all'`);
  const dataDir = String((await server.sql("SHOW data_directory")).rows[0]?.["data_directory"] ?? "");
  // test/support/postgres.ts writes the server's output to server.log beside the data directory.
  const path = join(dirname(dataDir), "server.log");
  return { path, offset: statSync(path).size };
}

/** Statements logged since `from`, by their first 80 characters (whitespace collapsed), most frequent first. */
export function countStatements(from: StatementLog): [string, number][] {
  const size = statSync(from.path).size;
  const buf = Buffer.alloc(size - from.offset);
  const fd = openSync(from.path, "r");
  try {
    readSync(fd, buf, 0, buf.length, from.offset);
  } finally {
    closeSync(fd);
  }
  const counts = new Map<string, number>();
  for (const line of buf.toString("utf8").split("\n")) {
    // Simple protocol: "LOG:  statement: …"; extended (parameters): "LOG:  execute <unnamed>: …".
    const m = /LOG: {2}(?:statement|execute [^:]*): (.*)$/.exec(line);
    if (m?.[1] === undefined) continue;
    const key = m[1].replace(/\s+/g, " ").trim().slice(0, 80);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}
