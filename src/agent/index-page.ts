import type { AgentStatus } from "./status.ts";

/** Escapes text for HTML. */
function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);
}

const buildHint = `<p><strong>The web UI is not built.</strong> In the gitward checkout run <code>npm run build:ui</code>
(or <code>make build</code>), then restart the agent: it serves the UI here. The npm package ships it built.</p>`;

/**
 * The page at `/` when the web UI is not built (`src/agent/http/ui.ts`): how to build it and,
 * for a caller who may read, how each stack stands, as plain HTML with no script. Without a
 * status (nobody signed in) only the hint and the API's address.
 */
export function indexPage(s: AgentStatus | undefined): string {
  const head = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>gitward agent</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style></head>
<body><h1>gitward agent</h1>
${buildHint}`;
  if (s === undefined) return `${head}<p>The JSON API is at <a href="/api/v1/me">/api/v1/</a> (send <code>Authorization: Bearer &lt;token&gt;</code>).</p></body></html>\n`;
  const rows = s.environments.flatMap((e) => e.stacks.map((st) => `<tr><td>${esc(e.name)}</td><td>${esc(st.stack)}</td><td>${esc(st.current?.slice(0, 12) ?? "-")}</td>`
    + `<td>${st.inSync ? "in sync" : "out of sync"}</td><td>${esc(st.lastSync?.outcome ?? "-")}</td><td>${esc(st.health?.state ?? "-")}</td><td>${st.drift}</td></tr>`));
  return `${head}
<p>Repository ${esc(s.repo)}, branch ${esc(s.branch)}${s.head === undefined ? "" : `, head <code>${esc(s.head.sha.slice(0, 12))}</code> ${esc(s.head.subject)}`}.</p>
${s.stale === undefined ? "" : `<p><strong>Repository unreachable since ${esc(s.stale.since)}:</strong> ${esc(s.stale.error)}</p>`}
${s.refused === undefined ? "" : `<p><strong>Head revision refused:</strong> ${esc(s.refused.reasons.join("; "))}</p>`}
<table><tr><th>Environment</th><th>Stack</th><th>Revision</th><th>State</th><th>Last sync</th><th>Health</th><th>Drifted objects</th></tr>
${rows.join("\n")}</table>
<p>JSON: <a href="/api/v1/status">status</a> · <a href="/api/v1/history">history</a> · <a href="/api/v1/drift">drift</a> · <a href="/metrics">metrics</a> · <a href="/readyz">readiness</a></p>
</body></html>
`;
}
