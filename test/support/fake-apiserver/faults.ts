import type { IncomingMessage, ServerResponse } from "node:http";
import { sendStatus } from "./http.ts";

/** Which requests a fault applies to; every request when absent. */
export interface RequestMatch {
  readonly method?: string;
  /** A path prefix, or a pattern tested against the path. */
  readonly path?: string | RegExp;
}

/** A failure to inject into the next `count` matching requests (default 1). */
export type FaultSpec =
  | { readonly status: 429; readonly retryAfterSeconds?: number; readonly count?: number; readonly match?: RequestMatch }
  | { readonly status: 500 | 503; readonly message?: string; readonly count?: number; readonly match?: RequestMatch }
  /** The connection is destroyed without an answer. */
  | { readonly kind: "reset"; readonly count?: number; readonly match?: RequestMatch };

interface Pending {
  readonly spec: FaultSpec;
  remaining: number;
}

/** The queue of injected faults, consumed in order by matching requests. */
export class Faults {
  private readonly pending: Pending[] = [];

  /** Queues a fault. */
  add(spec: FaultSpec): void {
    this.pending.push({ spec, remaining: spec.count ?? 1 });
  }

  /** Drops every queued fault. */
  clear(): void {
    this.pending.length = 0;
  }

  /** Takes the fault for a request, if one is queued for it. */
  take(method: string, path: string): FaultSpec | undefined {
    const found = this.pending.find((p) => p.remaining > 0 && matches(p.spec.match, method, path));
    if (found === undefined) return undefined;
    found.remaining -= 1;
    if (found.remaining === 0) this.pending.splice(this.pending.indexOf(found), 1);
    return found.spec;
  }
}

function matches(match: RequestMatch | undefined, method: string, path: string): boolean {
  if (match === undefined) return true;
  if (match.method !== undefined && match.method.toUpperCase() !== method) return false;
  if (match.path === undefined) return true;
  return typeof match.path === "string" ? path.startsWith(match.path) : match.path.test(path);
}

/** Answers a request with an injected fault, as the API server (or a dying proxy) would. */
export function answerFault(fault: FaultSpec, req: IncomingMessage, res: ServerResponse): void {
  if ("kind" in fault) {
    req.socket.destroy();
    return;
  }
  if (fault.status === 429) {
    const seconds = fault.retryAfterSeconds ?? 1;
    sendStatus(
      res,
      { code: 429, reason: "TooManyRequests", message: "Too many requests, please try again later.", details: { retryAfterSeconds: seconds } },
      { headers: { "retry-after": String(seconds) } },
    );
    return;
  }
  if (fault.status === 503) {
    sendStatus(res, { code: 503, reason: "ServiceUnavailable", message: fault.message ?? "the server is currently unable to handle the request", details: {} }, {});
    return;
  }
  const message = fault.message ?? "injected fault";
  sendStatus(res, { code: 500, reason: "InternalError", message: `Internal error occurred: ${message}`, details: { causes: [{ message }] } }, {});
}
