import { userInfo } from "node:os";
import { Command, Option } from "commander";
import { ErrorCode, GitwardError } from "../../core/errors.ts";
import type { Store } from "../../store/store.ts";
import type { TokenInfo } from "../../store/tokens.ts";
import { isTokenRole, tokenRoles } from "../../store/tokens.ts";
import { ExitCode } from "../exit-codes.ts";
import type { CliIO } from "../io.ts";
import { table } from "./agent.ts";

type Run<F> = (action: (io: CliIO, flags: F) => Promise<number>) => (flags: F) => Promise<void>;

interface TokenFlags {
  debug?: boolean;
  quiet?: boolean;
  color?: boolean;
  state: string;
  output: "text" | "json";
}

interface CreateFlags extends TokenFlags {
  role: string;
  env: string[];
  name?: string;
  expires?: string;
}

/** Who runs a token command, for `createdBy` and the audit log: `$GITWARD_USER`, else the OS user. */
export function tokenActor(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const given = env["GITWARD_USER"]?.trim();
  if (given !== undefined && given !== "") return given;
  try {
    return userInfo().username;
  } catch {
    return "unknown";
  }
}

const stateOption = (): Option => new Option("--state <url>", "the agent's state: sqlite:PATH").makeOptionMandatory();
const outputOption = (): Option => new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text");

/** `gitward token create|list|revoke`: API tokens in the agent's state (only their hashes are stored). */
export function tokenCommand(run: Run<TokenFlags>): Command {
  const create = new Command("create")
    .description("Create an API token and print it once on stdout (its details go to stderr); only its hash is stored")
    .addOption(new Option("--role <role>", "what it may do: viewer (read), operator (sync, rollback), admin (tokens, settings)").choices([...tokenRoles]).makeOptionMandatory())
    .option("--env <name>", "an environment it holds the role on (repeatable; default every environment, *)", (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option("--name <name>", "its name, shown in the audit log as the actor (default <role>-<random>)")
    .option("--expires <lifetime>", "when it expires, e.g. 30d, 12h, 2w (default never)")
    .addOption(stateOption())
    .addOption(outputOption())
    .action(run(async (io, flags) => {
      const f = flags as CreateFlags;
      const role = f.role;
      if (!isTokenRole(role)) throw new GitwardError(ErrorCode.Config, `--role ${role} is not one of ${tokenRoles.join(", ")}`);
      return withStore(f.state, async (store) => {
        const { issueToken } = await import("../../store/token-issue.ts");
        const { token, info } = await issueToken(store, {
          name: f.name, role, environments: f.env, expiresIn: f.expires, actor: tokenActor(), via: "cli",
        });
        if (f.output === "json") {
          io.out(JSON.stringify({ formatVersion: 1, token, ...info }, null, 2) + "\n");
        } else {
          io.out(`${token}\n`);
          io.err(`created token ${info.name} (id ${info.id}): ${describeGrant(info)}${info.expiresAt === undefined ? ", never expires" : `, expires ${info.expiresAt}`}\n`);
          io.err("this is the only time the token is shown: keep it in a secret store\n");
        }
        return ExitCode.Ok;
      });
    }));
  const list = new Command("list")
    .description("List API tokens (never the tokens themselves): name, role, environments, expiry, last use, revocation")
    .addOption(stateOption())
    .addOption(outputOption())
    .action(run(async (io, flags) =>
      withStore(flags.state, async (store) => {
        const tokens = await store.listTokens();
        if (flags.output === "json") io.out(JSON.stringify({ formatVersion: 1, items: tokens }, null, 2) + "\n");
        else if (tokens.length === 0) io.out("no tokens\n");
        else io.out(table(["ID", "NAME", "ROLE", "ENVIRONMENTS", "CREATED", "EXPIRES", "LAST USED", "STATE"], tokens.map(listRow)));
        return ExitCode.Ok;
      })));
  const revoke = new Command("revoke")
    .description("Revoke an API token by id or name: requests with it are refused from now on")
    .argument("<id-or-name>", "the token's id or name (gitward token list shows both)")
    .addOption(stateOption())
    .addOption(outputOption())
    .action((idOrName: string, flags: TokenFlags) => run(async (io, f) =>
      withStore(f.state, async (store) => {
        const { revokeIssuedToken } = await import("../../store/token-issue.ts");
        const info = await revokeIssuedToken(store, idOrName, tokenActor(), "cli");
        if (f.output === "json") io.out(JSON.stringify({ formatVersion: 1, ...info }, null, 2) + "\n");
        else io.out(`revoked token ${info.name} (id ${info.id}) at ${info.revokedAt ?? "?"}\n`);
        return ExitCode.Ok;
      }))(flags));
  return new Command("token")
    .description("API tokens of the agent: create (shown once), list, revoke; roles viewer < operator < admin per environment")
    .addCommand(create)
    .addCommand(list)
    .addCommand(revoke);
}

async function withStore<T>(state: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const { openStore } = await import("../../store/open.ts");
  const store = await openStore(state);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function describeGrant(info: TokenInfo): string {
  return `${info.role} on ${info.environments.includes("*") ? "every environment" : info.environments.join(", ")}`;
}

function listRow(t: TokenInfo): string[] {
  const now = Date.now();
  const state = t.revokedAt !== undefined ? "revoked" : t.expiresAt !== undefined && Date.parse(t.expiresAt) <= now ? "expired" : "active";
  return [t.id, t.name, t.role, t.environments.join(","), t.createdAt, t.expiresAt ?? "never", t.lastUsedAt ?? "-", state];
}
