import { pino, type Logger } from "pino";
import pretty from "pino-pretty";

/** Keys whose values never reach a log line, wherever they appear in a logged object. */
export const redactedKeys = [
  "token", "password", "secret", "authorization", "Authorization", "apiToken", "webhookSecret",
  "*.token", "*.password", "*.secret", "*.authorization", "*.headers.authorization", "*.headers[\"x-gitlab-token\"]",
  "req.headers.authorization", "req.headers[\"x-gitlab-token\"]", "req.headers[\"x-hub-signature-256\"]", "req.headers[\"x-gitea-signature\"]",
];

/**
 * The agent's logger: JSON lines (pino), secrets redacted by key; human-readable when stderr is
 * a terminal, coloured unless NO_COLOR is set.
 */
export function agentLogger(opts: { level?: string; destination?: NodeJS.WritableStream; pretty?: boolean } = {}): Logger {
  const base = { level: opts.level ?? process.env["GITWARD_LOG_LEVEL"] ?? "info", redact: { paths: redactedKeys, censor: "***" } };
  const tty = opts.pretty ?? process.stderr.isTTY;
  if (tty) {
    return pino(base, pretty({ colorize: process.env["NO_COLOR"] === undefined, destination: 2, ignore: "pid,hostname", translateTime: "SYS:HH:MM:ss" }));
  }
  return pino(base, opts.destination ?? pino.destination({ dest: 2, sync: true }));
}
