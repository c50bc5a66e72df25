import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { GitwardError } from "../../src/core/errors.ts";
import { rollback, type RollbackOptions, type RollbackResult } from "../../src/engine/rollback.ts";
import { createBareRemote, type BareRemote } from "../support/git-server.ts";
import { gitTestEnv, makeRepo, type TestRepo } from "../support/repo.ts";

// A rollback of an environment changes only what that environment renders: its steps are the
// commits that changed what it renders (found by rendering, whatever files they touched), and
// an undo that would change what another environment (or, for --stack, another stack) renders
// is refused. Three environments; `web` is plain YAML in one directory for all of them, with
// per-environment vars from gitward.yaml; `api` is kustomize, an overlay per environment on a
// shared base.

type Vars = Record<"greeting" | "workers" | "region", string>;
type Env = "dev" | "staging" | "prod";

/** What gitward.yaml says, per environment. */
interface Settings {
  readonly vars: Readonly<Record<Env, Vars>>;
  readonly contexts: Readonly<Record<Env, string>>;
}

const initialSettings: Settings = {
  vars: {
    dev: { greeting: "Hello", workers: "2", region: "us" },
    staging: { greeting: "Hello", workers: "2", region: "us" },
    prod: { greeting: "Hello", workers: "4", region: "us" },
  },
  contexts: { dev: "dev", staging: "staging", prod: "prod" },
};

function gitwardYaml(s: Settings): string {
  const envs = (["dev", "staging", "prod"] as const).map((e) => {
    const v = s.vars[e];
    return `  ${e}:\n    vars: { greeting: ${v.greeting}, workers: "${v.workers}", region: ${v.region} }\n    targets:\n      cluster: { provider: kubernetes, context: ${s.contexts[e]} }\n`;
  });
  return `version: 1
environments:
${envs.join("")}stacks:
  web:
    target: cluster
    path: apps/web
  api:
    target: cluster
    path: apps/api/overlays/dev
    environments:
      staging: { path: apps/api/overlays/staging }
      prod: { path: apps/api/overlays/prod }
`;
}

/** Settings with one environment's vars changed. */
function withVars(s: Settings, env: Env, vars: Partial<Vars>): Settings {
  return { ...s, vars: { ...s.vars, [env]: { ...s.vars[env], ...vars } } };
}

const overlay = (env: Env, size: string): string => `resources:\n  - ../../base\nnamePrefix: ${env}-\ncommonAnnotations:\n  size: ${size}\n`;
const apiBase = (image: string): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: api\ndata:\n  image: "${image}"\n  region: "\${region}"\n`;

const initialFiles = {
  "gitward.yaml": gitwardYaml(initialSettings),
  "README.md": "# infra\n",
  "apps/web/web.yaml": 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  greeting: "${greeting}"\n  workers: "${workers}"\n  region: "${region}"\n',
  "apps/api/base/kustomization.yaml": "resources:\n  - api.yaml\n",
  "apps/api/base/api.yaml": apiBase("api:1"),
  "apps/api/overlays/dev/kustomization.yaml": overlay("dev", "small"),
  "apps/api/overlays/staging/kustomization.yaml": overlay("staging", "small"),
  "apps/api/overlays/prod/kustomization.yaml": overlay("prod", "large"),
};

const userEnv = { ...gitTestEnv, GIT_AUTHOR_NAME: "Rita Rollback", GIT_AUTHOR_EMAIL: "rita@example.com" };

describe("rollback of one environment", () => {
  let root: string;
  let n = 0;
  const repos: TestRepo[] = [];

  before(() => {
    root = mkdtempSync(join(tmpdir(), "gitward-rollback-envs-"));
  });
  after(() => {
    for (const r of repos) r.remove();
    rmSync(root, { recursive: true, force: true });
  });

  /** A repository with the initial commit; `publish()` pushes it to the bare remote rollbacks go to. */
  const setup = (): { repo: TestRepo; remote: BareRemote; show: (path: string) => string; head: () => string } => {
    const repo = makeRepo();
    repos.push(repo);
    repo.commit(initialFiles, "initial");
    const remote = createBareRemote(root, `r${++n}`, repo);
    const git = (...args: string[]): string => execFileSync("git", [`--git-dir=${remote.dir}`, ...args], { encoding: "utf8", env: { ...process.env, ...gitTestEnv } });
    return { repo, remote, show: (path) => git("show", `main:${path}`), head: () => git("rev-parse", "main").trim() };
  };

  const run = (o: Partial<RollbackOptions> & Pick<RollbackOptions, "repo" | "environment">): Promise<RollbackResult> =>
    rollback({ target: { kind: "steps", steps: 1 }, reason: "it broke", publish: { kind: "none" }, env: userEnv, cwd: root, timeoutMs: 60_000, ...o });

  const rejects = async (p: Promise<unknown>, message: RegExp, hint?: RegExp): Promise<void> => {
    const error = await p.then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof GitwardError, `expected a GitwardError, got ${String(error)}`);
    assert.match(error.message, message);
    if (hint !== undefined) assert.match(error.hint ?? "", hint);
  };

  it("reverts the environment's own change, not a later one of another environment (per-environment vars in gitward.yaml)", async () => {
    const { repo, remote, show } = setup();
    const german = withVars(initialSettings, "dev", { greeting: "Hallo" });
    const dev = repo.commit({ "gitward.yaml": gitwardYaml(german) }, "dev: German greeting");
    const eight = withVars(german, "prod", { workers: "8" });
    repo.commit({ "gitward.yaml": gitwardYaml(eight) }, "prod: 8 workers");
    remote.push();

    // Limited to the stack, gitward.yaml is reverted too; the same commit is the step.
    const stack = await run({ repo: remote.dir, environment: "dev", stack: "web" });
    assert.deepEqual(stack.reverted.map((c) => c.subject), ["dev: German greeting"]);
    assert.deepEqual(stack.files, ["gitward.yaml"]);

    const r = await run({ repo: remote.dir, environment: "dev", publish: { kind: "push" } });
    assert.deepEqual(r.reverted, [{ sha: dev, subject: "dev: German greeting" }]);
    assert.match(r.message, new RegExp(`^Rollback dev: revert ${dev.slice(0, 7)} \\(dev: German greeting\\)\n`));
    assert.match(r.message, /\n\nGitward-Rollback: env=dev stack=\*\n$/);
    assert.equal(show("gitward.yaml"), gitwardYaml(withVars(initialSettings, "prod", { workers: "8" })), "dev's greeting is back; prod keeps 8 workers");
  });

  it("counts as steps only the commits that changed what the environment (or stack) renders", async () => {
    const { repo, remote } = setup();
    let s = withVars(initialSettings, "dev", { greeting: "Hallo" });
    const devGreeting = repo.commit({ "gitward.yaml": gitwardYaml(s) }, "dev: German greeting");
    const prodOverlay = repo.commit({ "apps/api/overlays/prod/kustomization.yaml": overlay("prod", "huge") }, "prod: huge api");
    repo.commit({ "README.md": "# infra, documented\n" }, "docs");
    s = withVars(s, "staging", { workers: "3" });
    repo.commit({ "gitward.yaml": gitwardYaml(s) }, "staging: 3 workers");
    s = { ...s, contexts: { ...s.contexts, prod: "prod-eu" } };
    const prodTarget = repo.commit({ "gitward.yaml": gitwardYaml(s) }, "prod: deploy to prod-eu");
    repo.commit({ "apps/api/overlays/dev/kustomization.yaml": "resources: [../../base]\nnamePrefix: dev-\ncommonAnnotations: { size: small }\n" }, "dev: same api, rewritten");
    remote.push();

    assert.deepEqual((await run({ repo: remote.dir, environment: "dev" })).reverted.map((c) => c.sha), [devGreeting]);
    assert.deepEqual((await run({ repo: remote.dir, environment: "prod", target: { kind: "steps", steps: 2 } })).reverted.map((c) => c.sha), [prodTarget, prodOverlay]);
    // A stack's target is part of what it renders: the new context is a step of prod/api, and of prod/web too.
    await rejects(run({ repo: remote.dir, environment: "prod", stack: "api" }), new RegExp(`^reverting ${prodTarget.slice(0, 7)} \\(prod: deploy to prod-eu\\) would also change what prod/web renders`));
    await rejects(run({ repo: remote.dir, environment: "dev", target: { kind: "steps", steps: 3 } }), /^--steps 3: only 2 commit\(s\) on main changed what dev renders$/);
    await rejects(run({ repo: remote.dir, environment: "staging", stack: "api", target: { kind: "steps", steps: 2 } }), /^--steps 2: only 1 commit\(s\) on main changed what staging\/api renders$/);
  });

  it("refuses to revert a commit that changed another environment too, naming the commit and the environment", async () => {
    const { repo, remote, head } = setup();
    const both = repo.commit({ "gitward.yaml": gitwardYaml(withVars(withVars(initialSettings, "dev", { greeting: "Hallo" }), "staging", { greeting: "Hallo" })) }, "dev and staging: Hallo");
    remote.push();
    const before = head();
    const short = both.slice(0, 7);
    const refusal = new RegExp(`^reverting ${short} \\(dev and staging: Hallo\\) would also change what staging renders; nothing was pushed$`);
    await rejects(run({ repo: remote.dir, environment: "dev", publish: { kind: "push" } }), refusal, new RegExp(`split it .* or revert it everywhere by hand \\(git revert ${short}\\)`));
    await rejects(run({ repo: remote.dir, environment: "dev", stack: "web", publish: { kind: "push" } }), refusal);
    assert.equal(head(), before, "nothing was pushed");
  });

  it("reverts only the stack's part of a commit that changed two environments' kustomize overlays, with --stack", async () => {
    const { repo, remote, show } = setup();
    const both = repo.commit(
      { "apps/api/overlays/dev/kustomization.yaml": overlay("dev", "medium"), "apps/api/overlays/prod/kustomization.yaml": overlay("prod", "huge") },
      "api: resize dev and prod",
    );
    remote.push();
    await rejects(run({ repo: remote.dir, environment: "dev" }), new RegExp(`^reverting ${both.slice(0, 7)} \\(api: resize dev and prod\\) would also change what prod renders; nothing was pushed$`));
    const r = await run({ repo: remote.dir, environment: "dev", stack: "api", publish: { kind: "push" } });
    assert.deepEqual(r.reverted.map((c) => c.sha), [both]);
    assert.deepEqual(r.files, ["apps/api/overlays/dev/kustomization.yaml"]);
    assert.equal(show("apps/api/overlays/dev/kustomization.yaml"), overlay("dev", "small"));
    assert.equal(show("apps/api/overlays/prod/kustomization.yaml"), overlay("prod", "huge"));
  });

  it("refuses a commit that changed every environment: a shared kustomize base, a var of every environment", async () => {
    const { repo, remote } = setup();
    const base = repo.commit({ "apps/api/base/api.yaml": apiBase("api:2") }, "api 2 everywhere");
    remote.push();
    await rejects(run({ repo: remote.dir, environment: "prod" }), new RegExp(`^reverting ${base.slice(0, 7)} \\(api 2 everywhere\\) would also change what dev and staging render; nothing was pushed$`));
    // The stack's directory is its overlay: the change is in the base, outside it.
    await rejects(
      run({ repo: remote.dir, environment: "prod", stack: "api" }),
      new RegExp(`^reverting ${base.slice(0, 7)} \\(api 2 everywhere\\) in apps/api/overlays/prod, gitward.yaml does not change what prod/api renders; nothing was pushed$`),
      /outside them .* roll back without --stack/,
    );

    let s = initialSettings;
    for (const e of ["dev", "staging", "prod"] as const) s = withVars(s, e, { greeting: "Hi" });
    const vars = repo.commit({ "gitward.yaml": gitwardYaml(s) }, "Hi everywhere");
    remote.push();
    await rejects(run({ repo: remote.dir, environment: "staging" }), new RegExp(`^reverting ${vars.slice(0, 7)} \\(Hi everywhere\\) would also change what dev and prod render`));
  });

  it("refuses an undo that leaves gitward.yaml unreadable, for every environment, saying why", async () => {
    const { repo, remote } = setup();
    repo.commit({ "gitward.yaml": gitwardYaml(initialSettings).replace("version: 1", "version: 1\nbogus: true") }, "break gitward.yaml");
    const fix = repo.commit({ "gitward.yaml": gitwardYaml(withVars(initialSettings, "dev", { greeting: "Hallo" })) }, "fix gitward.yaml, dev: Hallo");
    remote.push();
    await rejects(
      run({ repo: remote.dir, environment: "dev" }),
      new RegExp(`^reverting ${fix.slice(0, 7)} \\(fix gitward.yaml, dev: Hallo\\) would also change what prod and staging render \\(gitward.yaml cannot be read after it: gitward.yaml:2:1: bogus: unknown key\\); nothing was pushed$`),
      /git revert/,
    );
  });

  it("with --stack, refuses to change another stack of the environment; without, reverts both", async () => {
    const { repo, remote, show } = setup();
    // region is used by web and by api's base.
    const eu = withVars(initialSettings, "dev", { region: "eu" });
    const c = repo.commit({ "gitward.yaml": gitwardYaml(eu) }, "dev: move to eu");
    remote.push();
    await rejects(run({ repo: remote.dir, environment: "dev", stack: "web" }), new RegExp(`^reverting ${c.slice(0, 7)} \\(dev: move to eu\\) would also change what dev/api renders; nothing was pushed$`), /a commit per environment and stack/);
    const r = await run({ repo: remote.dir, environment: "dev", publish: { kind: "push" } });
    assert.deepEqual(r.reverted.map((x) => x.sha), [c]);
    assert.equal(show("gitward.yaml"), gitwardYaml(initialSettings));
  });

  it("--to refuses a restore that would change another environment, and restores a stack's overlay when nothing else changes", async () => {
    const { repo, remote, show } = setup();
    const good = repo.git("rev-parse", "HEAD");
    repo.commit({ "apps/api/overlays/prod/kustomization.yaml": overlay("prod", "huge") }, "prod: huge api");
    repo.commit({ "apps/api/overlays/dev/kustomization.yaml": overlay("dev", "tiny") }, "dev: tiny api");
    remote.push();
    await rejects(
      run({ repo: remote.dir, environment: "prod", target: { kind: "to", rev: good } }),
      new RegExp(`^restoring the repository to ${good.slice(0, 7)} would also change what dev renders; nothing was pushed$`),
      /limit the rollback to a stack with --stack/,
    );
    const r = await run({ repo: remote.dir, environment: "prod", stack: "api", target: { kind: "to", rev: good }, publish: { kind: "push" } });
    assert.deepEqual(r.files, ["apps/api/overlays/prod/kustomization.yaml"]);
    assert.equal(show("apps/api/overlays/prod/kustomization.yaml"), overlay("prod", "large"));
    assert.equal(show("apps/api/overlays/dev/kustomization.yaml"), overlay("dev", "tiny"));

    // gitward.yaml is restored whole: a change to dev's vars since makes the stack's restore change dev.
    repo.git("pull", "--quiet", "--ff-only", remote.dir, "main");
    repo.commit({ "gitward.yaml": gitwardYaml(withVars(initialSettings, "dev", { greeting: "Hallo" })) }, "dev: Hallo");
    remote.push();
    await rejects(
      run({ repo: remote.dir, environment: "prod", stack: "web", target: { kind: "to", rev: good } }),
      new RegExp(`^restoring apps/web, gitward.yaml to ${good.slice(0, 7)} would also change what dev render`),
    );
  });
});
