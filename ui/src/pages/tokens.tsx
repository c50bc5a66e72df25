/** API tokens (admin on every environment): list, create (the token is shown once) and revoke. */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { send } from "../api.ts";
import { formatTime } from "../format.ts";
import { keys } from "../keys.ts";
import { useTokens } from "../queries.ts";
import type { CreatedToken, Me, TokenInfo } from "../types.ts";
import { Dialog, Empty, ErrorBox, Loading } from "../widgets.tsx";

/** The tokens page. */
export function TokensPage(props: { me: Me }) {
  const tokens = useTokens();
  const [revoking, setRevoking] = useState<TokenInfo | undefined>(undefined);
  return (
    <section aria-labelledby="tokens-title" data-testid="tokens-page">
      <h1 id="tokens-title">API tokens</h1>
      <CreateToken me={props.me} />
      <h2>Tokens</h2>
      {tokens.isPending ? <Loading what="tokens" />
        : tokens.isError ? <ErrorBox error={tokens.error} retry={() => void tokens.refetch()} />
        : tokens.data.items.length === 0 ? <Empty>No tokens yet. The one above is the first.</Empty>
        : (
          <div className="table-scroll">
            <table className="list" data-testid="token-list">
              <thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Environments</th><th scope="col">Created</th><th scope="col">Expires</th><th scope="col">Last used</th><th scope="col">State</th><th scope="col"><span className="sr-only">Actions</span></th></tr></thead>
              <tbody>
                {tokens.data.items.map((t) => (
                  <tr key={t.id} data-testid={`token-${t.name}`}>
                    <td>{t.name}</td><td>{t.role}</td><td>{t.environments.join(", ")}</td>
                    <td>{formatTime(t.createdAt)}</td><td>{t.expiresAt === undefined ? "never" : formatTime(t.expiresAt)}</td>
                    <td>{t.lastUsedAt === undefined ? "never" : formatTime(t.lastUsedAt)}</td>
                    <td>{t.revokedAt === undefined ? <span className="badge tone-ok"><span aria-hidden="true">✓</span> active</span> : <span className="badge tone-idle"><span aria-hidden="true">✗</span> revoked {formatTime(t.revokedAt)}</span>}</td>
                    <td>{t.revokedAt === undefined ? <button type="button" className="danger" onClick={() => setRevoking(t)} data-testid="token-revoke">Revoke…</button> : null}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      {revoking === undefined ? null : <RevokeDialog token={revoking} me={props.me} onClose={() => setRevoking(undefined)} />}
    </section>
  );
}

function CreateToken(props: { me: Me }) {
  const client = useQueryClient();
  const [name, setName] = useState("");
  const [role, setRole] = useState("viewer");
  const [environments, setEnvironments] = useState("*");
  const [expiresIn, setExpiresIn] = useState("30d");
  const create = useMutation({
    mutationFn: () => send<CreatedToken>("POST", "/api/v1/tokens", "creating a token", {
      name: name.trim(), role,
      environments: environments.split(",").map((e) => e.trim()).filter((e) => e !== ""),
      ...(expiresIn.trim() === "" ? {} : { expiresIn: expiresIn.trim() }),
    }, props.me.csrfToken),
    onSuccess: () => client.invalidateQueries({ queryKey: keys.tokens() }),
  });
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <form className="token-form" onSubmit={submit} data-testid="token-create">
      <h2>Create a token</h2>
      <label className="field">Name <input required value={name} pattern="[A-Za-z0-9][A-Za-z0-9._@\-]{0,63}" onChange={(e) => setName(e.target.value)} data-testid="token-name" /></label>
      <label className="field">Role
        <select value={role} onChange={(e) => setRole(e.target.value)} data-testid="token-role">
          <option value="viewer">viewer: read</option><option value="operator">operator: sync and roll back</option><option value="admin">admin: also tokens</option>
        </select>
      </label>
      <label className="field">Environments (comma-separated, * for all) <input value={environments} onChange={(e) => setEnvironments(e.target.value)} data-testid="token-environments" /></label>
      <label className="field">Expires in (e.g. 30d, 12h; empty: never) <input value={expiresIn} onChange={(e) => setExpiresIn(e.target.value)} data-testid="token-expires" /></label>
      <button type="submit" className="primary" disabled={create.isPending} data-testid="token-submit">Create token</button>
      {create.isError ? <ErrorBox error={create.error} /> : null}
      {create.isSuccess ? (
        <div className="created" role="status" data-testid="token-created">
          <p><span aria-hidden="true">✓</span> Token <strong>{create.data.name}</strong> created. Copy it now: it is not shown again.</p>
          <input readOnly value={create.data.token} onFocus={(e) => e.target.select()} aria-label="The new token" data-testid="token-value" />
          <button type="button" onClick={() => void navigator.clipboard.writeText(create.data.token)}>Copy</button>
          <button type="button" onClick={() => create.reset()}>Done</button>
        </div>
      ) : null}
    </form>
  );
}

function RevokeDialog(props: { token: TokenInfo; me: Me; onClose: () => void }) {
  const client = useQueryClient();
  const revoke = useMutation({
    mutationFn: () => send<undefined>("DELETE", `/api/v1/tokens/${encodeURIComponent(props.token.id)}`, `revoking token ${props.token.name}`, undefined, props.me.csrfToken),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: keys.tokens() });
      props.onClose();
    },
  });
  return (
    <Dialog title={`Revoke token ${props.token.name}`} onClose={props.onClose} testId="revoke-dialog">
      <p>Requests with token <strong>{props.token.name}</strong> ({props.token.role} on {props.token.environments.join(", ")}) will be refused from now on. This cannot be undone.</p>
      {revoke.isError ? <ErrorBox error={revoke.error} /> : null}
      <div className="dialog-buttons">
        <button type="button" onClick={props.onClose} data-testid="dialog-cancel">Cancel</button>
        <button type="button" className="danger" disabled={revoke.isPending} onClick={() => revoke.mutate()} data-testid="revoke-confirm">Revoke</button>
      </div>
    </Dialog>
  );
}
