import { Command, Option } from "commander";
import { ExitCode } from "../exit-codes.ts";
import type { CliIO } from "../io.ts";

type Run<F> = (action: (io: CliIO, flags: F) => Promise<number>) => (flags: F) => Promise<void>;

interface MigrateFlags {
  debug?: boolean;
  quiet?: boolean;
  color?: boolean;
  from: string;
  to: string;
  output: "text" | "json";
}

/** `gitward state migrate`: copies an SQLite state into an empty PostgreSQL database. */
export function stateCommand(run: Run<MigrateFlags>): Command {
  const migrate = new Command("migrate")
    .description("Copy an SQLite state (history, drift, audit chain, API tokens) into an empty PostgreSQL database, keeping ids and audit hashes, and verify the copy")
    .addOption(new Option("--from <url>", "the SQLite state: sqlite:PATH").makeOptionMandatory())
    .addOption(new Option("--to <url>", "the PostgreSQL state: postgres://USER@HOST:PORT/DATABASE (password in PGPASSWORD or ~/.pgpass)").makeOptionMandatory())
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
    .action(run(async (io, flags) => {
      const { copySqliteToPostgres } = await import("../../store/state-copy.ts");
      const r = await copySqliteToPostgres(flags.from, flags.to);
      if (flags.output === "json") {
        io.out(JSON.stringify({ formatVersion: 1, ...r }, null, 2) + "\n");
      } else {
        io.out(`copied ${r.syncs} syncs, ${r.drift} drift events, ${r.audit} audit events and ${r.tokens} tokens from ${r.from} to ${r.to}\n`);
        io.out(`audit chain verified: ${r.audit} events, head ${r.auditHead}\n`);
      }
      return ExitCode.Ok;
    }));
  return new Command("state")
    .description("The agent's state store: copy it from SQLite to PostgreSQL")
    .addCommand(migrate);
}
