/**
 * Sign in: paste an API token (POST /auth/token makes a session cookie, so the token is never
 * kept in the page), or go through the agent's OIDC login when it offers one.
 */
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { getJson, send } from "../api.ts";
import { keys } from "../keys.ts";
import type { Me } from "../types.ts";
import { ErrorBox } from "../widgets.tsx";

/** Asks the agent for a CSRF token for the login form; none when it has no such endpoint. */
async function csrfForLogin(): Promise<string | undefined> {
  try {
    const r = await getJson<{ csrfToken?: string; token?: string }>("/auth/csrf", "CSRF token");
    return r.csrfToken ?? r.token;
  } catch {
    return undefined;
  }
}

/** The login page; `me` is the anonymous principal when anonymous reads are allowed, else null. */
export function LoginPage(props: { me: Me | null | undefined }) {
  const client = useQueryClient();
  const [token, setToken] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  // Public: says whether OIDC login is offered even before anyone is signed in.
  const providers = useQuery({ queryKey: ["auth-providers"], queryFn: ({ signal }) => getJson<{ oidc: boolean }>("/auth/providers", "sign-in options", signal) });
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    if (token.trim() === "") return;
    setBusy(true);
    setError(undefined);
    try {
      await send("POST", "/auth/token", "signing in", { token: token.trim() }, await csrfForLogin());
      setToken("");
      client.clear();
      await client.invalidateQueries({ queryKey: keys.me() });
      window.location.hash = "#/";
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="page login" data-testid="login-page">
      <h1>Sign in to gitward</h1>
      <form onSubmit={(e) => void submit(e)} data-testid="login-form">
        <label htmlFor="token">API token</label>
        <input
          id="token" type="password" autoComplete="off" spellCheck={false} required
          value={token} onChange={(e) => setToken(e.target.value)} data-testid="login-token"
        />
        <p className="hint">Created with <code>gitward token create</code>. It is exchanged for a session cookie and not stored in the browser.</p>
        <button type="submit" disabled={busy} data-testid="login-submit">{busy ? "Signing in…" : "Sign in"}</button>
      </form>
      {error === undefined ? null : <ErrorBox error={error} />}
      {props.me?.oidc === true || providers.data?.oidc === true
        ? <p><a className="button" href="/auth/login" data-testid="login-sso">Sign in with SSO</a></p>
        : null}
      {props.me?.kind === "anonymous"
        ? <p><a href="#/" data-testid="login-anonymous">Continue without signing in (read only)</a></p>
        : null}
    </main>
  );
}
