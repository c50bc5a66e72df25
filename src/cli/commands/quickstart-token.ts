import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openStore } from "../../store/open.ts";
import { issueToken } from "../../store/token-issue.ts";
import { hashApiToken, isApiTokenForm } from "../../store/tokens.ts";

/** The name of the admin token the quick start makes. */
export const quickstartTokenName = "quickstart-admin";

/** The quick start's admin token: the token, the file keeping it, and whether this run made it. */
export interface QuickstartToken {
  readonly token: string;
  readonly file: string;
  readonly created: boolean;
}

/**
 * The quick start's admin API token, made once in its state and kept in `<dir>/admin-token`
 * (0600) so a re-run can print it again (the state holds only its hash). A kept token the state
 * no longer accepts (revoked, a new state file) is replaced, revoking an old one of the same name.
 */
export async function ensureQuickstartToken(dir: string, state: string, actor: string): Promise<QuickstartToken> {
  const file = join(dir, "admin-token");
  const kept = existsSync(file) ? readFileSync(file, "utf8").trim() : "";
  const store = await openStore(state);
  try {
    if (isApiTokenForm(kept) && (await store.findToken(hashApiToken(kept))) !== undefined) return { token: kept, file, created: false };
    const stale = (await store.listTokens()).find((t) => t.name === quickstartTokenName && t.revokedAt === undefined);
    if (stale !== undefined) await store.revokeToken(stale.id);
    const { token } = await issueToken(store, { name: quickstartTokenName, role: "admin", environments: ["*"], actor, via: "quickstart" });
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    return { token, file, created: true };
  } finally {
    await store.close();
  }
}
