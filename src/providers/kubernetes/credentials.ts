import type https from "node:https";

/**
 * Keeps credentials out of errors: the Authorization header, basic-auth pairs and their bare
 * tokens are collected from the request options and replaced wherever they would be shown.
 */

/** The credential strings request options carry. */
export function credentialsOf(opts: https.RequestOptions): string[] {
  const out: string[] = [];
  const headers = opts.headers as Record<string, unknown> | undefined;
  for (const name of ["Authorization", "authorization"]) {
    const auth = headers?.[name];
    if (typeof auth === "string") out.push(auth, auth.replace(/^\S+\s+/, ""));
  }
  if (typeof opts.auth === "string") out.push(opts.auth, opts.auth.slice(opts.auth.indexOf(":") + 1));
  // Short strings would redact ordinary words.
  return out.filter((s) => s.length >= 8);
}

/** The text with every credential replaced by `<redacted>`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.replaceAll(secret, "<redacted>");
  return out;
}

/** A copy of an error safe to show: its message redacted, its `code` kept, nothing else. */
export function sanitizeError(err: unknown, secrets: readonly string[]): Error {
  const message = err instanceof Error ? err.message : String(err);
  const clean = new Error(redact(message, secrets));
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === "string") Object.assign(clean, { code });
  return clean;
}
