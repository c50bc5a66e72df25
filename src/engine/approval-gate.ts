/**
 * The approval gate: a revision may be applied to an environment that requires approvals only
 * when every commit that reached the branch since the environment's last synced revision came
 * through a merged pull request approved by enough members of the named groups, none of them the
 * pull request's author or a committer of its commits. A commit pushed straight to the branch
 * fails it. The forge is asked (pull requests of a commit, their approvals, team members) and
 * its answers are cached; a forge that cannot be asked holds the revision: the gate fails
 * closed, and says why.
 */
import type { Clock } from "../core/clock.ts";
import type { ApproverGroup } from "../config/schema.ts";
import { ForgeError, type Approval, type Forge, type PullRequest } from "../forge/forge.ts";

/** One approval rule: `required` approvals from members of `groups`. */
export interface ApprovalRule {
  readonly required: number;
  readonly groups: Readonly<Record<string, ApproverGroup>>;
}

/** What the gate is asked about. */
export interface ApprovalQuestion {
  readonly environment: string;
  readonly branch: string;
  /** The commits since the last synced revision, newest first (from `GitSource.firstParentsSince`). */
  readonly commits: readonly string[];
  /** Every rule that applies (gitward.yaml at the head and at the last synced revision); all must hold. */
  readonly rules: readonly ApprovalRule[];
}

/** How one pull request stands against the rules. */
export interface PullApproval {
  readonly number: number;
  /** `#42` or `!42`. */
  readonly ref: string;
  readonly url: string;
  readonly author: string;
  /** The approvers who count, sorted. */
  readonly approvers: readonly string[];
}

/** The gate's answer. */
export interface ApprovalVerdict {
  readonly allowed: boolean;
  /** Why it is held, in words (`prod: waiting for 1 more approval from sre on !42`); empty when allowed. */
  readonly reasons: readonly string[];
  /** The pull requests the commits came through, with their counted approvers. */
  readonly pulls: readonly PullApproval[];
  /** True when the forge could not be asked: the verdict is a hold for that reason, not a judgement. */
  readonly unreachable: boolean;
}

/** Options of {@link ApprovalGate}. */
export interface ApprovalGateOptions {
  readonly forge: Forge;
  readonly clock: Clock;
  /** How long approvals, and pull requests not yet merged, are cached; default 60 s. A review webhook forgets them sooner ({@link ApprovalGate.forget}). */
  readonly ttlMs?: number;
  /** How long a team's members are cached; default 5 minutes. */
  readonly teamTtlMs?: number;
  /** Commits checked at most for one revision; more holds it (default 100). */
  readonly maxCommits?: number;
}

interface Cached<T> {
  readonly at: number;
  readonly value: T;
}

/** Entries kept per cache before the oldest are dropped. */
const cacheLimit = 5000;

/** The approval gate over one forge, with its cache. */
export class ApprovalGate {
  readonly #o: ApprovalGateOptions;
  readonly #pullsOf = new Map<string, Cached<readonly PullRequest[]>>();
  readonly #reviews = new Map<number, Cached<{ readonly headSha: string; readonly approvals: readonly Approval[]; readonly committers: readonly string[] }>>();
  readonly #teams = new Map<string, Cached<readonly string[]>>();

  constructor(o: ApprovalGateOptions) {
    this.#o = o;
  }

  /** The forge's kind, for messages. */
  get forgeKind(): string {
    return this.#o.forge.kind;
  }

  /** Forgets cached approvals (of one pull request, or all): a review arrived. */
  forget(pr?: number): void {
    if (pr === undefined) this.#reviews.clear();
    else this.#reviews.delete(pr);
  }

  /** Whether the commits may be applied under the rules. */
  async check(q: ApprovalQuestion): Promise<ApprovalVerdict> {
    const rules = q.rules.filter((r) => r.required > 0);
    if (rules.length === 0) return { allowed: true, reasons: [], pulls: [], unreachable: false };
    const max = this.#o.maxCommits ?? 100;
    if (q.commits.length > max) {
      return hold([`${q.environment}: more than ${max} commits reached ${q.branch} since the last sync; the gate checks at most ${max} (sync with --override-approval after reviewing them)`], []);
    }
    try {
      const reasons: string[] = [];
      const pulls = new Map<number, PullApproval>();
      for (const sha of q.commits) {
        const pr = await this.#mergedPullOf(sha, q.branch);
        if (pr === undefined) {
          reasons.push(`${q.environment}: commit ${sha.slice(0, 12)} reached ${q.branch} without a merged pull request`);
          continue;
        }
        if (pulls.has(pr.number)) continue;
        const { approvers, missing } = await this.#judge(pr, rules);
        pulls.set(pr.number, { number: pr.number, ref: this.#o.forge.ref(pr.number), url: pr.url, author: pr.author, approvers });
        reasons.push(...missing.map((m) => `${q.environment}: waiting for ${m.count} more approval${m.count === 1 ? "" : "s"} from ${m.groups} on ${this.#o.forge.ref(pr.number)}`));
      }
      return { allowed: reasons.length === 0, reasons, pulls: [...pulls.values()], unreachable: false };
    } catch (e: unknown) {
      if (!(e instanceof ForgeError)) throw e;
      return { ...hold([`${q.environment}: cannot check approvals on ${this.#o.forge.kind}: ${e.message}`], []), unreachable: true };
    }
  }

  /** The merged pull request into `branch` that `sha` belongs to, if any. */
  async #mergedPullOf(sha: string, branch: string): Promise<PullRequest | undefined> {
    const pulls = await this.#cached(this.#pullsOf, sha, this.#ttl(), () => this.#o.forge.pullRequestsOfCommit(sha),
      // Once merged, a pull request's commits never change: kept for good.
      (found) => found.some((p) => p.state === "merged" && p.baseBranch === branch));
    const merged = pulls.filter((p) => p.state === "merged" && p.baseBranch === branch);
    // The one whose merge made this commit, else any merged one that holds it (a rebase merge).
    return merged.find((p) => p.mergeCommitSha === sha) ?? merged[0];
  }

  /** Who counts on a pull request, and what each rule still misses. */
  async #judge(pr: PullRequest, rules: readonly ApprovalRule[]): Promise<{ approvers: string[]; missing: { count: number; groups: string }[] }> {
    const reviews = await this.#cached(this.#reviews, pr.number, this.#ttl(), async () => {
      const [approvals, committers] = await Promise.all([this.#o.forge.approvals(pr), this.#o.forge.commitUsers(pr)]);
      return { headSha: pr.headSha, approvals, committers };
    }, () => false, (v) => v.headSha === pr.headSha);
    const excluded = new Set([pr.author, ...reviews.committers].map((u) => u.toLowerCase()));
    const current = reviews.approvals
      .filter((a) => a.commitSha === undefined || a.commitSha === pr.headSha)
      .map((a) => a.user)
      .filter((u) => !excluded.has(u.toLowerCase()));
    const counted = new Set<string>();
    const missing: { count: number; groups: string }[] = [];
    for (const rule of rules) {
      const members = new Set<string>();
      for (const spec of Object.values(rule.groups)) for (const m of await this.#members(spec)) members.add(m.toLowerCase());
      const ok = current.filter((u) => members.has(u.toLowerCase()));
      for (const u of ok) counted.add(u);
      if (ok.length < rule.required) missing.push({ count: rule.required - ok.length, groups: Object.keys(rule.groups).join(" or ") });
    }
    return { approvers: [...counted].sort(), missing };
  }

  async #members(spec: ApproverGroup): Promise<readonly string[]> {
    if (Array.isArray(spec)) return spec;
    const team = (spec as { readonly team: string }).team;
    return this.#cached(this.#teams, team, this.#o.teamTtlMs ?? 300_000, () => this.#o.forge.teamMembers(team), () => false);
  }

  #ttl(): number {
    return this.#o.ttlMs ?? 60_000;
  }

  /** A cached answer while fresh (or for good once `keep` says so, while `valid` holds), else asked again. */
  async #cached<K, V>(map: Map<K, Cached<V>>, key: K, ttlMs: number, ask: () => Promise<V>, keep: (v: V) => boolean, valid: (v: V) => boolean = () => true): Promise<V> {
    const now = this.#o.clock.now();
    const hit = map.get(key);
    if (hit !== undefined && valid(hit.value) && (hit.at === Number.POSITIVE_INFINITY || now - hit.at < ttlMs)) return hit.value;
    const value = await ask();
    map.delete(key);
    if (map.size >= cacheLimit) map.delete(map.keys().next().value as K);
    map.set(key, { at: keep(value) ? Number.POSITIVE_INFINITY : now, value });
    return value;
  }
}

function hold(reasons: string[], pulls: PullApproval[]): ApprovalVerdict {
  return { allowed: false, reasons, pulls, unreachable: false };
}
