import * as client from "openid-client";
import type { Logger } from "pino";
import { isLoopback } from "../listen.ts";
import type { Principal } from "./access.ts";
import { grantsForGroups, groupsFromClaim, type GroupRole } from "./oidc-roles.ts";
import { ExpiringMap, type SessionData } from "./session-store.ts";

/** The agent configuration's `oidc`, with the client secret read and the redirect URL decided. */
export interface OidcSettings {
  readonly issuer: string;
  readonly clientId: string;
  /** Absent for a public client: PKCE alone protects the code exchange. */
  readonly clientSecret?: string;
  readonly redirectUrl: string;
  readonly scopes: readonly string[];
  readonly groupsClaim: string;
  readonly roles: readonly GroupRole[];
  /** How long a session opened by this login lasts. */
  readonly sessionTtlMs: number;
}

/** How a callback ended: a session to open, or a refusal to show the user. */
export type LoginOutcome =
  | { readonly ok: true; readonly session: SessionData; readonly returnTo: string }
  | { readonly ok: false; readonly status: 400 | 403 | 502; readonly reason: string };

interface PendingLogin {
  readonly verifier: string;
  readonly nonce: string;
  readonly returnTo: string;
}

/** How long a user has between leaving for the provider and coming back. */
const pendingTtlMs = 10 * 60_000;

/**
 * The agent as an OpenID Connect relying party (authorization code flow with PKCE, state and
 * nonce). The provider is discovered at start; while it cannot be reached the agent still runs,
 * discovery is retried in the background and {@link ready} stays false (logins answer 503).
 */
export class OidcLogin {
  readonly settings: OidcSettings;
  readonly #logger: Logger;
  readonly #pending: ExpiringMap<PendingLogin>;
  readonly #retryMaxMs: number;
  #config: client.Configuration | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #retryMs: number;

  constructor(settings: OidcSettings, logger: Logger, o: { readonly retryBaseMs?: number; readonly retryMaxMs?: number; readonly now?: () => number } = {}) {
    this.settings = settings;
    this.#logger = logger;
    this.#retryMs = o.retryBaseMs ?? 1000;
    this.#retryMaxMs = o.retryMaxMs ?? 60_000;
    this.#pending = new ExpiringMap({ max: 10_000, ...(o.now === undefined ? {} : { now: o.now }) });
  }

  /** Whether the provider has been discovered, so logins can start. */
  get ready(): boolean {
    return this.#config !== undefined;
  }

  /** Tries discovery now; on failure keeps trying in the background (1 s, doubling, at most 60 s apart). */
  async start(): Promise<void> {
    if (this.#config !== undefined || this.#stopped) return;
    try {
      this.#config = await this.#discover();
      this.#logger.info({ issuer: this.settings.issuer }, "OIDC provider discovered; browser login is on");
    } catch (e: unknown) {
      this.#logger.warn({ issuer: this.settings.issuer, err: e instanceof Error ? e.message : String(e), retryInMs: this.#retryMs },
        "OIDC discovery failed; browser login answers 503 until the provider answers");
      this.#timer = setTimeout(() => void this.start(), this.#retryMs);
      this.#timer.unref();
      this.#retryMs = Math.min(this.#retryMs * 2, this.#retryMaxMs);
    }
  }

  /** Stops retrying discovery. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
  }

  /** Starts a login: the provider's authorization URL and the state that binds the callback to this browser. */
  async begin(returnTo: string): Promise<{ readonly url: string; readonly state: string }> {
    const config = this.#required();
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    this.#pending.set(state, { verifier, nonce, returnTo }, Date.now() + pendingTtlMs);
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUrl,
      scope: this.settings.scopes.join(" "),
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
      nonce,
    });
    return { url: url.href, state };
  }

  /**
   * Finishes a login from the callback URL: checks the state against the one this browser
   * started with, exchanges the code (PKCE verifier, nonce), reads the groups and maps them.
   */
  async finish(callbackUrl: URL, browserState: string | undefined): Promise<LoginOutcome> {
    const config = this.#required();
    const state = callbackUrl.searchParams.get("state") ?? "";
    const error = callbackUrl.searchParams.get("error");
    const pending = state === "" ? undefined : this.#pending.take(state);
    if (error !== null) {
      const description = (callbackUrl.searchParams.get("error_description") ?? "").slice(0, 200);
      return { ok: false, status: error === "access_denied" ? 403 : 400, reason: `the provider refused the login: ${error.slice(0, 60)}${description === "" ? "" : ` (${description})`}` };
    }
    if (pending === undefined || browserState !== state) {
      return { ok: false, status: 400, reason: "this login link is unknown, expired or was started in another browser; start again from the login page" };
    }
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, callbackUrl, { pkceCodeVerifier: pending.verifier, expectedState: state, expectedNonce: pending.nonce, idTokenExpected: true });
    } catch (e: unknown) {
      this.#logger.warn({ issuer: this.settings.issuer, err: e instanceof Error ? e.message : String(e) }, "OIDC code exchange failed");
      return { ok: false, status: 502, reason: "the provider's answer could not be verified; try again, and see the agent's log if it persists" };
    }
    const claims: Record<string, unknown> = { ...tokens.claims() };
    const sub = typeof claims["sub"] === "string" ? claims["sub"] : "";
    // Some providers put groups and profile claims only in userinfo, not in the ID token.
    if (claims[this.settings.groupsClaim] === undefined && config.serverMetadata().userinfo_endpoint !== undefined) {
      try {
        Object.assign(claims, await client.fetchUserInfo(config, tokens.access_token, sub), { sub });
      } catch (e: unknown) {
        this.#logger.warn({ issuer: this.settings.issuer, err: e instanceof Error ? e.message : String(e) }, "OIDC userinfo failed; using the ID token's claims only");
      }
    }
    const groups = groupsFromClaim(claims, this.settings.groupsClaim);
    const grants = grantsForGroups(groups, this.settings.roles);
    const who = text(claims["email"]) ?? text(claims["preferred_username"]) ?? sub;
    if (grants.length === 0) {
      this.#logger.warn({ subject: sub, groups: groups.slice(0, 20) }, "OIDC login refused: no group maps to a role");
      return { ok: false, status: 403, reason: `${who} is signed in at the provider, but none of their groups (claim "${this.settings.groupsClaim}") is given a role on this agent. Ask an administrator to add a group to oidc.roles.` };
    }
    const principal: Principal = { kind: "oidc", name: `oidc:${sub}`, subject: sub, grants };
    const email = text(claims["email"]);
    const displayName = text(claims["name"]) ?? text(claims["preferred_username"]);
    const idToken = tokens.id_token;
    this.#logger.info({ subject: sub, grants }, "OIDC login");
    return {
      ok: true, returnTo: pending.returnTo,
      session: { principal, ...(email === undefined ? {} : { email }), ...(displayName === undefined ? {} : { displayName }), ...(idToken === undefined ? {} : { idToken }) },
    };
  }

  /** The provider's logout URL (RP-initiated logout), when it offers one. */
  endSessionUrl(idToken: string | undefined, postLogoutRedirect: string | undefined): string | undefined {
    const config = this.#config;
    if (config?.serverMetadata().end_session_endpoint === undefined) return undefined;
    return client.buildEndSessionUrl(config, {
      client_id: this.settings.clientId,
      ...(idToken === undefined ? {} : { id_token_hint: idToken }),
      ...(postLogoutRedirect === undefined ? {} : { post_logout_redirect_uri: postLogoutRedirect }),
    }).href;
  }

  #required(): client.Configuration {
    if (this.#config === undefined) throw new Error("the OIDC provider has not been discovered yet");
    return this.#config;
  }

  async #discover(): Promise<client.Configuration> {
    const issuer = new URL(this.settings.issuer);
    const auth = this.settings.clientSecret === undefined ? client.None() : client.ClientSecretPost(this.settings.clientSecret);
    // Plain HTTP is accepted only for a provider on this machine (tests, a local Dex); anywhere else it would expose the codes.
    const insecure = issuer.protocol === "http:" && isLoopback(issuer.hostname.replace(/^\[|\]$/g, ""));
    if (issuer.protocol === "http:" && !insecure) throw new Error(`oidc.issuer ${issuer.origin} uses http: only a provider on loopback may; use https`);
    return client.discovery(issuer, this.settings.clientId, this.settings.clientSecret === undefined ? {} : { client_secret: this.settings.clientSecret }, auth,
      { timeout: 10, ...(insecure ? { execute: [client.allowInsecureRequests] } : {}) });
  }
}

function text(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v.slice(0, 200) : undefined;
}
