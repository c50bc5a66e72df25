/**
 * The fake forge's world, shared by its GitHub, GitLab and Gitea faces: users and their tokens,
 * one repository, its pull requests (with commits, reviews and comments), commit statuses and
 * teams, and the faults a test can inject. Tests arrange it through the methods here and read it
 * back to assert what gitward did; each face (`github.ts`, `gitlab.ts`, `gitea.ts`) renders it
 * in that forge's REST shapes. Times come from `now()`, a fixed, advancing clock.
 */

export type FakeReviewState = "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED";

export interface FakeUser {
  readonly id: number;
  readonly login: string;
}

export interface FakeCommit {
  readonly sha: string;
  readonly author: string;
  readonly committer: string;
  readonly message: string;
}

export interface FakeReview {
  readonly id: number;
  readonly user: string;
  state: FakeReviewState;
  /** The pull request's head when the review was given. */
  readonly commitSha: string;
  readonly submittedAt: string;
  readonly body: string;
}

export interface FakeComment {
  readonly id: number;
  readonly user: string;
  body: string;
  readonly createdAt: string;
  updatedAt: string;
}

export interface FakePull {
  readonly number: number;
  /** A global id, distinct from the number (GitHub `id`, GitLab `id`, Gitea `id`). */
  readonly id: number;
  title: string;
  readonly author: string;
  state: "open" | "closed";
  merged: boolean;
  draft: boolean;
  headSha: string;
  readonly headBranch: string;
  readonly baseBranch: string;
  mergeCommitSha?: string;
  mergedBy?: string;
  mergedAt?: string;
  closedAt?: string;
  labels: string[];
  commits: FakeCommit[];
  readonly reviews: FakeReview[];
  readonly comments: FakeComment[];
  readonly createdAt: string;
  updatedAt: string;
}

export interface FakeStatus {
  readonly id: number;
  readonly sha: string;
  readonly context: string;
  readonly state: string;
  readonly description: string;
  readonly targetUrl?: string | undefined;
  readonly creator: string;
  readonly createdAt: string;
}

/** What the next requests meet, for tests of retries and errors. */
export interface FakeFaults {
  /** Every request fails: the server closes the connection without an answer. */
  down: boolean;
  /** The next N authenticated requests are answered as the forge answers a rate limit. */
  rateLimitNext: number;
  /** The next N requests are answered 502. */
  serverErrorNext: number;
}

/** One request the fake received, as the tests assert on them. */
export interface RecordedRequest {
  readonly method: string;
  /** The path below the API base (`/repos/acme/infra/pulls/1`), without the query. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly body: unknown;
  /** The token the request carried, undefined when none. */
  readonly token: string | undefined;
  readonly status: number;
  /** The operation of the API description it matched (`pulls/get`, `GET /projects/{id}/merge_requests/{merge_request_iid}`), when one did. */
  readonly operation: string | undefined;
  /** Where it departs from the forge's API description; empty when it conforms. */
  readonly problems: readonly string[];
}

export class FakeForgeState {
  /** GitHub and Gitea `owner/name`; GitLab's project path is `owner/name` too, its id `projectId`. */
  readonly owner: string;
  readonly name: string;
  readonly projectId = 17;
  readonly users = new Map<string, FakeUser>();
  readonly tokens = new Map<string, string>();
  readonly pulls = new Map<number, FakePull>();
  readonly statuses: FakeStatus[] = [];
  /** Team name (as gitward names it: `org/slug`, or a GitLab group path) → usernames. */
  readonly teams = new Map<string, string[]>();
  readonly faults: FakeFaults = { down: false, rateLimitNext: 0, serverErrorNext: 0 };
  readonly requests: RecordedRequest[] = [];
  #nextId = 1000;
  #clock = Date.parse("2026-12-01T10:00:00Z");

  constructor(repository = "acme/infra") {
    const [owner, name] = repository.split("/");
    if (owner === undefined || name === undefined) throw new Error(`repository must be owner/name, got ${repository}`);
    this.owner = owner;
    this.name = name;
  }

  /** A fresh id, unique across every kind of thing. */
  nextId(): number {
    return this.#nextId++;
  }

  /** An ISO time, one second later at each call. */
  now(): string {
    this.#clock += 1000;
    return new Date(this.#clock).toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  /** Adds a user with a token (default `token-<login>`); returns the token. */
  addUser(login: string, token = `token-${login}`): string {
    if (!this.users.has(login)) this.users.set(login, { id: this.nextId(), login });
    this.tokens.set(token, login);
    return token;
  }

  user(login: string): FakeUser {
    let u = this.users.get(login);
    if (u === undefined) {
      u = { id: this.nextId(), login };
      this.users.set(login, u);
    }
    return u;
  }

  /** Opens a pull request; its commits default to one commit, its head, by the author. */
  openPull(p: { number?: number; title?: string; author: string; headSha: string; headBranch?: string; baseBranch?: string; labels?: string[]; draft?: boolean; commits?: FakeCommit[] }): FakePull {
    this.user(p.author);
    const number = p.number ?? Math.max(0, ...this.pulls.keys()) + 1;
    const at = this.now();
    const pull: FakePull = {
      number, id: this.nextId(), title: p.title ?? `Change ${number}`, author: p.author, state: "open", merged: false, draft: p.draft ?? false,
      headSha: p.headSha, headBranch: p.headBranch ?? `change-${number}`, baseBranch: p.baseBranch ?? "main", labels: [...(p.labels ?? [])],
      commits: p.commits ?? [{ sha: p.headSha, author: p.author, committer: p.author, message: `change ${number}` }],
      reviews: [], comments: [], createdAt: at, updatedAt: at,
    };
    this.pulls.set(number, pull);
    return pull;
  }

  pull(number: number): FakePull {
    const p = this.pulls.get(number);
    if (p === undefined) throw new Error(`no pull request ${number} in the fake forge`);
    return p;
  }

  /** A new head on the pull request's branch (a push to it). */
  push(number: number, commit: FakeCommit): void {
    const p = this.pull(number);
    p.commits.push(commit);
    p.headSha = commit.sha;
    p.updatedAt = this.now();
  }

  /** A review on the current head. */
  review(number: number, user: string, state: FakeReviewState = "APPROVED", body = ""): FakeReview {
    const p = this.pull(number);
    this.user(user);
    const r: FakeReview = { id: this.nextId(), user, state, commitSha: p.headSha, submittedAt: this.now(), body };
    p.reviews.push(r);
    return r;
  }

  merge(number: number, mergeCommitSha: string, by: string): void {
    const p = this.pull(number);
    this.user(by);
    p.state = "closed";
    p.merged = true;
    p.mergeCommitSha = mergeCommitSha;
    p.mergedBy = by;
    p.mergedAt = p.closedAt = p.updatedAt = this.now();
  }

  close(number: number): void {
    const p = this.pull(number);
    p.state = "closed";
    p.closedAt = p.updatedAt = this.now();
  }

  reopen(number: number): void {
    const p = this.pull(number);
    p.state = "open";
    delete p.closedAt;
    p.updatedAt = this.now();
  }

  /** The pull requests `sha` belongs to: as head, as one of its commits, or as its merge commit. */
  pullsOfCommit(sha: string): FakePull[] {
    return [...this.pulls.values()].filter((p) => p.headSha === sha || p.mergeCommitSha === sha || p.commits.some((c) => c.sha === sha));
  }

  /** The statuses set on a commit, oldest first. */
  statusesOf(sha: string): FakeStatus[] {
    return this.statuses.filter((s) => s.sha === sha);
  }

  /** The latest status per context on a commit. */
  latestStatuses(sha: string): Map<string, FakeStatus> {
    const m = new Map<string, FakeStatus>();
    for (const s of this.statusesOf(sha)) m.set(s.context, s);
    return m;
  }

  /** The requests that departed from the forge's API description. */
  nonConforming(): RecordedRequest[] {
    return this.requests.filter((r) => r.problems.length > 0);
  }
}
