import { GitwardError } from "../core/errors.ts";
import type { Commit, Signature } from "./types.ts";
import type { GitRepo } from "./git-command.ts";
import { firstErrorLine } from "./git-command.ts";

// One NUL-separated record; %s is the subject line, so it never holds a NUL or newline.
// %B, the raw message, comes last: whatever it holds is the message.
const commitFormat = "%H%x00%T%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%s%x00%B";
const fieldsBeforeMessage = 9;

/**
 * Resolves a revision (branch, tag, full or short SHA, `HEAD~1`) to a commit.
 * Annotated tags are peeled to the commit they point at.
 */
export async function resolveRevision(repo: GitRepo, rev: string, signal?: AbortSignal): Promise<Commit> {
  checkRevision(rev);
  const result = await repo.run({
    args: ["rev-parse", "--verify", "--quiet", "--end-of-options", `${rev}^{commit}`],
    signal,
  });
  const sha = result.stdout.toString("utf8").trim();
  if (result.exitCode !== 0 || !/^[0-9a-f]{40,64}$/.test(sha)) {
    if (result.exitCode === 1 && result.stderr.trim() === "") throw await unknownRevision(repo, rev, signal);
    throw new GitwardError("git", `cannot resolve "${rev}" in ${repo.displayName}: ${repo.mask(firstErrorLine(result))}`);
  }
  return readCommit(repo, sha, signal);
}

/** Reads a commit's tree, author, committer, subject and message by its full SHA, in one git call. */
export async function readCommit(repo: GitRepo, sha: string, signal?: AbortSignal): Promise<Commit> {
  const out = await repo.output(
    { args: ["-c", "log.showSignature=false", "log", "-1", "--no-walk", `--format=${commitFormat}`, sha, "--"], signal },
    `reading commit ${sha}`,
  );
  const f = out.toString("utf8").replace(/\n$/, "").split("\0");
  if (f.length <= fieldsBeforeMessage) {
    throw new GitwardError("git", `unexpected output reading commit ${sha} in ${repo.displayName}`);
  }
  const at = (i: number): string => f[i] ?? "";
  const person = (i: number): Signature => ({ name: at(i), email: at(i + 1), date: at(i + 2) });
  const message = f.slice(fieldsBeforeMessage).join("\0");
  return { sha: at(0), tree: at(1), author: person(2), committer: person(5), subject: at(8), message };
}

function checkRevision(rev: string): void {
  // A leading dash would be read as an option; control characters never name a ref.
  if (rev === "" || rev.startsWith("-") || /[\x00-\x1f\x7f]/.test(rev)) {
    throw new GitwardError("git", `invalid revision "${rev}"`, {
      hint: "a revision is a branch, tag, commit SHA or an expression like main~1",
    });
  }
}

async function unknownRevision(repo: GitRepo, rev: string, signal?: AbortSignal): Promise<GitwardError> {
  const refs = await repo.run({
    args: ["for-each-ref", "--count=6", "--sort=-committerdate", "--format=%(refname:short)", "refs/heads"],
    signal,
  });
  const names = refs.exitCode === 0 ? refs.stdout.toString("utf8").split("\n").filter((n) => n !== "") : [];
  const shown = names.slice(0, 5).join(", ") + (names.length > 5 ? ", …" : "");
  const hint =
    names.length === 0
      ? "the repository has no branches; check the location"
      : `check the spelling; branches include: ${shown}`;
  return new GitwardError("git", `unknown revision "${rev}" in ${repo.displayName}`, { hint });
}
