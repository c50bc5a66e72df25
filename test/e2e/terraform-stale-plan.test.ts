import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isRecord } from "../../src/core/object.ts";
import { syncEnvironment, type SyncResult } from "../../src/engine/sync-environment.ts";
import type { DesiredObject, Provider, TransactOptions } from "../../src/providers/provider.ts";
import { terraformProvider } from "../../src/providers/terraform/provider.ts";
import { testWorkspace, type TestWorkspace } from "../support/engine.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";
import { makeTfSandbox, requireTerraform, terraformBinary, type TfSandbox } from "../support/terraform.ts";

const noDelete = `apiVersion: policy.gitward.dev/v1alpha1
kind: Policy
metadata: { name: no-delete }
spec:
  match:
    resources:
      - { apiGroups: [terraform.gitward.dev], kinds: [terraform_data] }
  validations:
    - expression: "object.metadata.annotations['terraform.gitward.dev/action'] != 'delete'"
      messageExpression: "'deleting ' + object.metadata.name + ' is not allowed'"
`;

function moduleMain(extra = ""): string {
  return `terraform {
  backend "local" {}
}

variable "value" {
  type = string
}

resource "terraform_data" "web" {
  input = var.value
}
${extra}`;
}

const extra = `
resource "terraform_data" "extra" {
  input = "made outside gitward"
}
`;

/**
 * A saved plan made stale between gitward's review and its apply, at the engine level
 * (`syncEnvironment`, what `gitward apply` runs) with real terraform: an operator applies to the
 * same state while gitward's policies look at the plan. gitward plans again, reviews the new plan
 * again, and applies it only when the policies allow it and it makes the same changes.
 */
describe("Terraform: a plan made stale between review and apply (real terraform)", () => {
  let sb: TfSandbox;
  let repo: TestRepo;
  let tw: TestWorkspace;
  /** What each review saw: the planned objects' `address action (before → after)`. */
  let reviews: string[][] = [];
  /** Run at the first review of the next sync: the change outside gitward. */
  let duringReview: (() => void) | undefined;

  // The real Terraform provider, with the engine's review observed (and the state moved at the first one).
  const observed = (inner: Provider): Provider => ({
    name: inner.name,
    async open(name, target, ctx) {
      const session = await inner.open(name, target, ctx);
      const transact = session.transact?.bind(session);
      if (transact === undefined) throw new Error("the terraform session transacts");
      session.transact = (desired, stale, opts: TransactOptions) => transact(desired, stale, {
        ...opts,
        review: async (planned: readonly DesiredObject[]) => {
          reviews.push(planned.map(describePlanned));
          const hook = duringReview;
          duringReview = undefined;
          hook?.();
          if (opts.review === undefined) throw new Error("the engine reviews Terraform plans");
          return opts.review(planned);
        },
      });
      return session;
    },
  });

  const gitwardYaml = (value: string): string => `version: 1
environments:
  dev:
    targets:
      tf: { provider: terraform, binary: ${terraformBinary}, backendConfig: { path: ${sb.statePath("dev")} } }
stacks:
  net: { target: tf, path: tf/net, vars: { value: ${value} } }
policies: policies
`;
  const apply = (): Promise<SyncResult> => syncEnvironment({
    source: tw.ws.source, rev: "HEAD", configPath: "gitward.yaml", renderer: tw.ws.renderer, check: tw.ws.check, configCache: tw.ws.configCache,
    environment: "dev", dryRun: false, force: false,
    providers: { terraform: observed(terraformProvider()) },
    providerContext: { cacheDir: join(sb.dir, "cache") },
  });
  const outside = (files: string, value: string): void => {
    sb.outOfBand(sb.module(`outside-${value}`, { "main.tf": files }), "dev", ["apply", "-auto-approve", "-input=false", "-no-color", "-var", `value=${value}`]);
  };
  const state = (): Record<string, unknown> => {
    const s = JSON.parse(readFileSync(sb.statePath("dev"), "utf8")) as { resources: { name: string; instances: { attributes: { input: { value: unknown } } }[] }[] };
    return Object.fromEntries(s.resources.map((r) => [r.name, r.instances[0]?.attributes.input.value]));
  };

  before(async () => {
    requireTerraform();
    sb = makeTfSandbox();
    process.env["TF_CLI_CONFIG_FILE"] = sb.cliConfig;
    repo = makeRepo();
    repo.commit({ "gitward.yaml": gitwardYaml("v1"), "tf/net/main.tf": moduleMain(), "policies/no-delete.yaml": noDelete }, "net v1");
    tw = await testWorkspace(repo.dir);
    const first = await apply();
    assert.equal(first.ok, true, JSON.stringify(first.stacks));
    assert.deepEqual(state(), { web: "v1" });
  });
  after(async () => {
    await tw.close();
    delete process.env["TF_CLI_CONFIG_FILE"];
    repo.remove();
    sb.remove();
  });

  it("re-plans and reviews again when the state moved, then applies the new plan (same changes)", async () => {
    repo.commit({ "gitward.yaml": gitwardYaml("v2") }, "net v2");
    reviews = [];
    duringReview = () => outside(moduleMain(), "v3");
    const r = await apply();
    assert.equal(r.ok, true, JSON.stringify(r.stacks));
    assert.deepEqual(reviews, [["update terraform_data.web (v1 → v2)"], ["update terraform_data.web (v3 → v2)"]], "the second review saw the new plan");
    assert.deepEqual(state(), { web: "v2" });
    const entries = r.stacks[0]?.entries.filter((e) => e.ref.kind !== "Output").map((e) => `${e.action} ${e.ref.name}`);
    assert.deepEqual(entries, ["configured terraform_data.web"]);
  });

  it("refuses, applying nothing, when the new plan is denied by a policy", async () => {
    repo.commit({ "gitward.yaml": gitwardYaml("v4") }, "net v4");
    reviews = [];
    // The operator's module also makes a resource gitward's module does not declare: the new plan deletes it.
    duringReview = () => outside(moduleMain(extra), "v5");
    const r = await apply();
    assert.equal(r.ok, false);
    assert.deepEqual(reviews, [["update terraform_data.web (v2 → v4)"], ["delete terraform_data.extra (made outside gitward → null)", "update terraform_data.web (v5 → v4)"]]);
    assert.match(r.stacks[0]?.error ?? "", /plan refused: .*deleting terraform_data\.extra is not allowed.*nothing was applied/);
    assert.deepEqual(state(), { web: "v5", extra: "made outside gitward" }, "nothing was applied");
    assert.ok(r.stacks[0]?.entries.every((e) => e.action === "skipped"), JSON.stringify(r.stacks[0]?.entries));
  });
});

/** A planned object as `action address (input before → input after)`. */
function describePlanned(d: DesiredObject): string {
  const meta = d.object["metadata"];
  const annotation = isRecord(meta) && isRecord(meta["annotations"]) ? meta["annotations"]["terraform.gitward.dev/action"] : undefined;
  const action = typeof annotation === "string" ? annotation : "?";
  const input = (o: unknown): unknown => (isRecord(o) && isRecord(o["input"]) ? o["input"]["value"] : isRecord(o) && "input" in o ? o["input"] : null);
  const status = d.object["status"];
  const before = isRecord(status) ? status["before"] : undefined;
  const after = action === "delete" ? null : d.object["spec"];
  return `${action} ${d.ref.name} (${String(input(before))} → ${String(after === null ? null : input(after))})`;
}
