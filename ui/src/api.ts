/**
 * The agent's API as the browser calls it: same-origin fetches with the session cookie, one
 * error type built from the API's error shape, and the CSRF header on every write.
 */

/** An error answer of the API: its HTTP status, its code and its message for people. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

/** Reads the API's `{"error": {"code", "message"}}` (or the older `{"error": "text"}`) from an answer. */
async function errorOf(res: Response, what: string): Promise<ApiError> {
  let code = `http_${res.status}`;
  let message = `${what}: the agent answered ${res.status} ${res.statusText}`.trim();
  try {
    const body = (await res.json()) as { error?: unknown };
    const e = body.error;
    if (typeof e === "string") message = `${what}: ${e}`;
    else if (typeof e === "object" && e !== null) {
      const { code: c, message: m } = e as { code?: unknown; message?: unknown };
      if (typeof c === "string") code = c;
      if (typeof m === "string") message = `${what}: ${m}`;
    }
  } catch {
    // Not JSON (a proxy's page): the status line says enough.
  }
  return new ApiError(res.status, code, message);
}

async function call<T>(method: string, path: string, what: string, init: { body?: unknown; csrf?: string | undefined; signal?: AbortSignal | undefined }): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  if (init.csrf !== undefined) headers["x-csrf-token"] = init.csrf;
  let res: Response;
  try {
    res = await fetch(path, {
      method, headers, credentials: "same-origin",
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      ...(init.signal === undefined ? {} : { signal: init.signal }),
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, "network", `${what}: the agent cannot be reached (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!res.ok) throw await errorOf(res, what);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** GET a JSON resource; `what` names it in error messages ("stacks", "history of prod/web"). */
export function getJson<T>(path: string, what: string, signal?: AbortSignal): Promise<T> {
  return call<T>("GET", path, what, { signal });
}

/** POST (or DELETE) with the CSRF token the session was given. */
export function send<T>(method: "POST" | "DELETE", path: string, what: string, body: unknown, csrf: string | undefined): Promise<T> {
  return call<T>(method, path, what, { body, csrf });
}

/** A query string from the defined values. */
export function query(params: Readonly<Record<string, string | number | undefined>>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") p.set(k, String(v));
  const s = p.toString();
  return s === "" ? "" : `?${s}`;
}

/** A path segment, encoded. */
export function seg(s: string): string {
  return encodeURIComponent(s);
}
