import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ErrorCode, GitwardError } from "../../core/errors.ts";

/** The quick start's identity, for its own commits and for a user git knows no name for. */
const demoIdentity = { name: "gitward quickstart", email: "quickstart@gitward.dev" } as const;

/** What {@link makeDemo} did. */
export interface DemoOutcome {
  /** False when the directory already held the demo, which is then reused as it is. */
  readonly created: boolean;
  /** Set when git has no user identity, so the demo repository was given the quick start's own. */
  readonly identitySet: boolean;
}

/** Writes the demo repository and target directories, unless they already exist. */
export function makeDemo(dir: string): DemoOutcome {
  const repo = join(dir, "repo");
  if (existsSync(join(repo, ".git"))) return { created: false, identitySet: false };
  for (const env of ["dev", "prod"]) mkdirSync(join(dir, "targets", env), { recursive: true });
  for (const [path, content] of Object.entries(demoFiles(dir))) {
    mkdirSync(join(repo, path, ".."), { recursive: true });
    writeFileSync(join(repo, path), content);
  }
  const git = (...args: string[]): string => runGit(repo, args);
  git("init", "-q", "-b", "main");
  // `gitward rollback --push` pushes to this repository's checked-out branch: let the push update the work tree.
  git("config", "receive.denyCurrentBranch", "updateInstead");
  // The guide has the user commit here; on a machine where git knows no user, that would fail.
  const identitySet = !hasIdentity(repo);
  if (identitySet) {
    git("config", "user.name", demoIdentity.name);
    git("config", "user.email", demoIdentity.email);
  }
  git("add", "-A");
  git("commit", "-q", "-m", "Quick start: a site and an app config in dev and prod");
  return { created: true, identitySet };
}

/**
 * The agent's API token, kept in `<dir>/api-token` (mode 0600) so that `gitward sync
 * --token-file` can use it; made on the first run, reused after. Returns the file's path.
 */
export function ensureApiToken(dir: string): string {
  const file = join(dir, "api-token");
  if (!existsSync(file) || readFileSync(file, "utf8").trim() === "") {
    writeFileSync(file, `${randomBytes(24).toString("base64url")}\n`, { mode: 0o600 });
  }
  return file;
}

/**
 * The agent configuration, kept in `<dir>/agent.yaml` (made on the first run, reused after, so
 * that edits stay): outside the repository, as a real agent's is. It defines the command the
 * demo's host target runs; gitward.yaml only names it. Returns the file's path.
 */
export function ensureAgentConfig(dir: string, tokenFile: string): string {
  const file = join(dir, "agent.yaml");
  if (existsSync(file)) return file;
  writeFileSync(file, `# The quick start's agent configuration: outside Git, next to the credentials (docs/agent.md).
cacheDir: ${JSON.stringify(join(dir, ".cache"))}
concurrency: 4
intervals: { poll: 2, drift: 5, retryBase: 2, retryMax: 30, dependencyWait: 0.5 }
gracePeriodSeconds: 10
api:
  token: { file: ${JSON.stringify(tokenFile)} }
  # The agent listens on loopback: reading needs no login there; writes need a token.
  anonymousRead: true
targets:
  web:
    commands:
      # gitward.yaml names this check; only this file says what it runs (docs/host.md#commands).
      site-has-index: [test, -s, "{staged}/site/index.html"]
`);
  return file;
}

/** What the guide's commands need: where the demo is, the agent's URL, and how to run gitward. */
export interface GuideOptions {
  readonly dir: string;
  readonly url: string;
  readonly tokenFile: string;
  /** The admin API token made in the state, for logging in to the web UI; absent: not shown. */
  readonly adminToken?: { readonly token: string; readonly file: string } | undefined;
  /** The program and arguments that run gitward, absolute: `[node, .../bin/gitward.js]`. */
  readonly gitward: readonly string[];
}

/**
 * What to try while the agent runs. Every command works as printed, from any directory and in
 * any order: paths are absolute, and `gitward` is an alias the first line defines (the
 * checkout's bin/gitward.js with the Node that runs the quick start, which may be the one
 * `make` installed, not the machine's).
 */
export function guide(o: GuideOptions): string {
  const d = (path: string): string => shellQuote(join(o.dir, path));
  return `
The agent is running at ${o.url}, syncing ${join(o.dir, "repo")} (branch main) into ${join(o.dir, "targets")}/{dev,prod}.

${o.adminToken === undefined ? "" : `Web UI: ${o.url}/ (reading needs no login on loopback; to act, log in with the admin token
  ${o.adminToken.token}
kept in ${o.adminToken.file}; gitward token list --state ${shellQuote(`sqlite:${join(o.dir, "state.db")}`)} shows the tokens).

`}Try, in another terminal (the first line defines the gitward command there):

  alias gitward=${shellQuote(o.gitward.map(shellQuote).join(" "))}
  cat ${d("targets/dev/site/index.html")}
  gitward status --agent ${o.url}

  # Drift: dev corrects it within seconds; prod (self-heal off) only reports it.
  echo tampered > ${d("targets/dev/site/index.html")}
  echo tampered > ${d("targets/prod/site/index.html")}
  gitward status --agent ${o.url}

  # Ask for a sync now: write endpoints take the API token the quick start made.
  gitward sync --agent ${o.url} -e prod --token-file ${shellQuote(o.tokenFile)}

  # What the host target may run is the agent's to say: gitward.yaml names the check, agent.yaml defines it.
  cat ${d("agent.yaml")}

  # A change through Git: committed, then synced within seconds.
  cd ${d("repo")} && sed -i 's/Hello from dev/Bonjour from dev/' gitward.yaml && git commit -qam "Greet in French"
  gitward history --agent ${o.url}

  # Rollback is a revert commit; the agent syncs it like any other.
  gitward rollback --repo ${d("repo")} --env dev --steps 1 --reason "demo" --push

Ctrl-C stops the agent. History and audit stay in ${join(o.dir, "state.db")} (gitward audit verify --state ${shellQuote(`sqlite:${join(o.dir, "state.db")}`)}).
`;
}

/** A word for a POSIX shell: as it is when it is safe, else single-quoted. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

function hasIdentity(repo: string): boolean {
  const env = process.env;
  if ((env["GIT_AUTHOR_EMAIL"] ?? "") !== "" && (env["GIT_COMMITTER_EMAIL"] ?? "") !== "") return true;
  try {
    return runGit(repo, ["config", "--get", "user.email"]) !== "";
  } catch {
    return false;
  }
}

function runGit(repo: string, args: readonly string[]): string {
  try {
    return execFileSync("git", args, {
      cwd: repo, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8", timeout: 30_000,
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: process.env["GIT_AUTHOR_NAME"] ?? demoIdentity.name, GIT_AUTHOR_EMAIL: process.env["GIT_AUTHOR_EMAIL"] ?? demoIdentity.email,
        GIT_COMMITTER_NAME: process.env["GIT_COMMITTER_NAME"] ?? demoIdentity.name, GIT_COMMITTER_EMAIL: process.env["GIT_COMMITTER_EMAIL"] ?? demoIdentity.email,
      },
    }).trim();
  } catch (e: unknown) {
    throw new GitwardError(ErrorCode.Git, `git ${args[0] ?? ""} failed in ${repo}: ${(e as { stderr?: string }).stderr?.trim() ?? String(e)}`, { hint: "the quick start needs git on PATH" });
  }
}

function demoFiles(dir: string): Record<string, string> {
  return {
    "gitward.yaml": `# The gitward quick start: two environments on the host provider (files on this machine).
version: 1
environments:
  dev:
    vars: { greeting: "Hello from dev", replicas: "1", logLevel: debug }
    targets:
      # check names a command: the agent configuration (agent.yaml, outside Git) defines what it runs.
      web: { provider: host, root: ${join(dir, "targets", "dev")}, check: site-has-index }
    sync: { auto: true, prune: true, selfHeal: true }    # drift is corrected
  prod:
    vars: { greeting: "Hello from prod", replicas: "3", logLevel: warn }
    targets:
      web: { provider: host, root: ${join(dir, "targets", "prod")}, check: site-has-index }
    sync: { auto: true, prune: true, selfHeal: false }   # drift is reported, not corrected
stacks:
  site:
    target: web
    path: site
  app-config:
    target: web
    path: app
    dependsOn: [site]
`,
    "site/site.yaml": `apiVersion: host.gitward.dev/v1alpha1
kind: Directory
metadata: { name: site }
spec: { path: site, mode: "0755" }
---
apiVersion: host.gitward.dev/v1alpha1
kind: File
metadata: { name: index }
spec:
  path: site/index.html
  source: index.html
`,
    "site/index.html": "<h1>${greeting}</h1>\n",
    "app/config.yaml": `apiVersion: host.gitward.dev/v1alpha1
kind: File
metadata: { name: app-config }
spec:
  path: app/config.ini
  mode: "0640"
  content: |
    [app]
    replicas = \${replicas}
    log_level = \${logLevel}
`,
  };
}
