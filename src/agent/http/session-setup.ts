/**
 * Browser sessions from the agent configuration (`sessions`, `oidc`, `url`, `http.tls`): the
 * secrets read (so the agent masks them), the OIDC login with its redirect URL, and the
 * security settings.
 */
import type { Logger } from "pino";
import { ErrorCode, GitwardError } from "../../core/errors.ts";
import { readSecret, type AgentConfig } from "../config.ts";
import { OidcLogin } from "./oidc.ts";
import type { BrowserSetup } from "./deps.ts";
import { BrowserSessions } from "./session.ts";

/** The secrets browser sessions use; read before the logger exists, so the logger can mask them. */
export interface BrowserSecrets {
  readonly cookieSecret?: string | undefined;
  readonly clientSecret?: string | undefined;
}

/** Reads `sessions.secret` and `oidc.clientSecret`. */
export async function readBrowserSecrets(c: AgentConfig): Promise<BrowserSecrets> {
  const [cookieSecret, clientSecret] = await Promise.all([readSecret(c.sessions.secret), c.oidc === undefined ? undefined : readSecret(c.oidc.clientSecret)]);
  return { cookieSecret, clientSecret };
}

/**
 * The sessions, OIDC login and security settings of an agent. Cookies are `Secure` and HSTS is
 * sent when the agent serves HTTPS or its `url` is https (a TLS-terminating proxy in front).
 */
export function browserSetup(c: AgentConfig, secrets: BrowserSecrets, o: { readonly logger: Logger; readonly tls: boolean }): BrowserSetup {
  const https = o.tls || c.url?.startsWith("https:") === true;
  const url = c.url?.replace(/\/+$/, "");
  let oidc: OidcLogin | undefined;
  if (c.oidc !== undefined) {
    const redirectUrl = c.oidc.redirectUrl ?? (url === undefined ? undefined : `${url}/auth/callback`);
    if (redirectUrl === undefined) {
      throw new GitwardError(ErrorCode.Config, "oidc: the provider needs a redirect URL: set url (the agent's address, giving <url>/auth/callback) or oidc.redirectUrl");
    }
    oidc = new OidcLogin({
      issuer: c.oidc.issuer, clientId: c.oidc.clientId, redirectUrl, scopes: c.oidc.scopes, groupsClaim: c.oidc.groupsClaim,
      roles: c.oidc.roles, sessionTtlMs: c.oidc.sessionTtl * 1000,
      ...(secrets.clientSecret === undefined ? {} : { clientSecret: secrets.clientSecret }),
    }, o.logger);
  }
  const sessions = new BrowserSessions({
    secure: https, ttlMs: (c.oidc?.sessionTtl ?? 28_800) * 1000,
    ...(secrets.cookieSecret === undefined ? {} : { secret: secrets.cookieSecret }),
    ...(oidc === undefined ? {} : { oidc }),
    ...(url === undefined ? {} : { url: `${url}/` }),
  });
  return { sessions, security: { https } };
}
