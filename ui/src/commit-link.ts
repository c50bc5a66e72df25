/**
 * Links from a revision to its commit on the forge the repository lives on. Pure: the
 * overview, the history and the rollback dialog all build links the same way.
 */

/** Hosts whose SSH remotes (`git@host:owner/repo.git`) are known to serve the same path over HTTPS. */
const knownForges = new Set(["github.com", "gitlab.com", "codeberg.org", "gitea.com", "bitbucket.org"]);

const fullSha = /^[0-9a-f]{7,64}$/i;

/**
 * The web page of a repository, from the URL the agent follows: `https://host/owner/repo` (with
 * `.git` and any user info dropped, so no credential reaches the page), or an SSH remote of a
 * known forge; undefined for local paths, `file:` URLs and anything else.
 */
export function repositoryWebUrl(repo: string): string | undefined {
  const scp = /^(?:[\w.-]+@)?([\w.-]+):(?!\/\/)([\w.-]+(?:\/[\w.-]+)+)\/?$/.exec(repo);
  if (scp !== null && scp[1] !== undefined && scp[2] !== undefined && knownForges.has(scp[1].toLowerCase())) {
    return `https://${scp[1].toLowerCase()}/${scp[2].replace(/\.git$/, "")}`;
  }
  let url: URL;
  try {
    url = new URL(repo);
  } catch {
    return undefined;
  }
  const path = url.pathname.replace(/\/+$/, "").replace(/\.git$/, "");
  // owner/repo at least; GitLab groups may nest deeper.
  if (path.split("/").filter((s) => s !== "").length < 2) return undefined;
  if (url.protocol === "https:") return `https://${url.host}${path}`;
  if ((url.protocol === "ssh:" || url.protocol === "git+ssh:") && knownForges.has(url.hostname.toLowerCase())) {
    return `https://${url.hostname.toLowerCase()}${path}`;
  }
  return undefined;
}

/** The page of commit `sha` on the repository's forge, or undefined when there is none to link to. */
export function commitUrl(repo: string | undefined, sha: string): string | undefined {
  if (repo === undefined || !fullSha.test(sha)) return undefined;
  const web = repositoryWebUrl(repo);
  return web === undefined ? undefined : `${web}/commit/${sha.toLowerCase()}`;
}

/** The first 7 characters of a SHA, as Git shows it; `-` for none. */
export function shortSha(sha: string | undefined): string {
  return sha === undefined || sha === "" ? "-" : sha.slice(0, 7);
}
