import { CommandStartError, type CommandRunner } from "../../../core/command-runner.ts";
import { ErrorCode, GitwardError } from "../../../core/errors.ts";

/** The NSS databases gitward looks owners up in. */
export type GetentDatabase = "passwd" | "group";

/** What {@link getentId} found: an id, no entry, or no getent on this machine. */
export type GetentAnswer = { readonly id: number } | "no-entry" | "unavailable";

/** The largest uid or gid; 2^32 - 1 means "no change" to chown. */
export const maxId = 0xfffffffe;

/**
 * Looks a name up with `getent <database> <name>`, so every NSS source configured on the
 * machine answers (files, LDAP, SSSD, systemd). Exit 2 is "no such entry"; a missing getent is
 * `unavailable`; a timeout, another exit code or an entry without a numeric id is a
 * GitwardError(Tool) naming the command. The name must not start with `-`.
 */
export async function getentId(runner: CommandRunner, database: GetentDatabase, name: string, timeoutMs: number): Promise<GetentAnswer> {
  const command = `getent ${database} ${name}`;
  let r;
  try {
    r = await runner.run({ command: "getent", args: [database, name], timeoutMs, maxStdoutBytes: 1024 * 1024, maxStderrBytes: 4096 });
  } catch (e: unknown) {
    if (e instanceof CommandStartError && e.errno === "ENOENT") return "unavailable";
    throw new GitwardError(ErrorCode.Tool, `cannot run ${command}`, { cause: e });
  }
  if (r.timedOut) {
    throw new GitwardError(ErrorCode.Tool, `${command} did not answer within ${timeoutMs / 1000} s`, {
      hint: "check the name services in /etc/nsswitch.conf (LDAP, SSSD), or give a numeric id",
    });
  }
  if (r.exitCode === 2) return "no-entry";
  const stderr = r.stderr.trim();
  if (r.exitCode !== 0 || r.truncated) throw new GitwardError(ErrorCode.Tool, `${command} exited ${r.exitCode}${stderr === "" ? "" : `: ${stderr}`}`);
  const line = r.stdout.toString("utf8").split("\n")[0] ?? "";
  const id = line.split(":")[2];
  if (id === undefined || !/^\d+$/.test(id) || Number(id) > maxId) {
    throw new GitwardError(ErrorCode.Tool, `${command} answered an entry without a valid id: ${JSON.stringify(line.slice(0, 200))}`);
  }
  return { id: Number(id) };
}
