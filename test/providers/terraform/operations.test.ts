import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { StalePlanError, TerraformError } from "../../../src/providers/terraform/errors.ts";
import { CountingRunner, localBackend, makeTfSandbox, requireTerraform, type TfSandbox } from "../../support/terraform.ts";

const valueTf = `variable "value" {
  type = string
}
resource "terraform_data" "v" {
  input = var.value
}
output "value" {
  value = terraform_data.v.output
}
`;

describe("TerraformWorkspace operations (real terraform)", () => {
  let sb: TfSandbox;
  before(() => {
    requireTerraform();
    sb = makeTfSandbox();
  });
  after(() => sb.remove());

  it("refuses a plan made stale by an apply outside gitward between plan and apply", async () => {
    const moduleDir = sb.module("stale", { "main.tf": valueTf, "backend.tf": localBackend });
    const ws = sb.workspace(sb.target("stale"), sb.stack(moduleDir, { value: "one" }, "stale"));
    const plan = await ws.plan({});
    sb.outOfBand(moduleDir, "stale", ["apply", "-auto-approve", "-input=false", "-no-color", "-var", "value=other"]);
    await assert.rejects(ws.apply(plan), StalePlanError);
    // A fresh plan applies, and the state then holds gitward's value.
    const replanned = await ws.plan({});
    assert.equal((await ws.apply(replanned)).ok, true);
    assert.deepEqual(await ws.outputs(), { value: { value: "one", sensitive: false } });
  });

  it("reports drift per address and attribute after the state was changed outside gitward, and a normal apply corrects it", async () => {
    const moduleDir = sb.module("drift", { "main.tf": valueTf, "backend.tf": localBackend });
    const ws = sb.workspace(sb.target("drift"), sb.stack(moduleDir, { value: "declared" }, "drift"));
    assert.equal((await ws.apply(await ws.plan({}))).ok, true);
    assert.deepEqual(await ws.drift(), []);
    sb.outOfBand(moduleDir, "drift", ["apply", "-auto-approve", "-input=false", "-no-color", "-var", "value=edited"]);
    const drift = await ws.drift();
    assert.deepEqual(drift.map((c) => [c.address, c.action]), [["terraform_data.v", "update"]]);
    assert.match(drift[0]?.diff ?? "", /^~ input: "edited" → "declared"$/m);
    assert.equal((await ws.apply(await ws.plan({}))).ok, true);
    assert.deepEqual(await ws.drift(), []);
    assert.deepEqual(await ws.outputs(), { value: { value: "declared", sensitive: false } });
  });

  it("returns outputs with their raw values and sensitivity", async () => {
    const moduleDir = sb.module("outputs", {
      "backend.tf": localBackend,
      "main.tf": `variable "token" {
  type      = string
  sensitive = true
}
output "endpoint" {
  value = "db.internal:5432"
}
output "ports" {
  value = [5432, 5433]
}
output "token" {
  value     = var.token
  sensitive = true
}
`,
    });
    const ws = sb.workspace(sb.target("outputs"), sb.stack(moduleDir, { token: "tok-planted-91x" }, "outputs"));
    const plan = await ws.plan({});
    assert.deepEqual(plan.outputChanges.map((o) => [o.name, o.action, o.sensitive, o.after]), [
      ["endpoint", "create", false, "db.internal:5432"], ["ports", "create", false, [5432, 5433]], ["token", "create", true, undefined],
    ]);
    const applied = await ws.apply(plan);
    assert.equal(applied.ok, true, applied.error);
    const outputs = await ws.outputs();
    assert.deepEqual(outputs, {
      endpoint: { value: "db.internal:5432", sensitive: false },
      ports: { value: [5432, 5433], sensitive: false },
      token: { value: "tok-planted-91x", sensitive: true },
    });
    assert.equal(JSON.stringify({ plan, log: applied.log }).includes("tok-planted-91x"), false);
  });

  it("reports a failing local-exec as a failed apply, and the state stays consistent: a re-plan shows what is left", async () => {
    const moduleDir = sb.module("failing", {
      "backend.tf": localBackend,
      "main.tf": `variable "fail" {
  type = bool
}
variable "effects" {
  type = string
}
resource "terraform_data" "first" {
  input = "first"
  provisioner "local-exec" {
    command = "echo first >> \${var.effects}/failing.log"
  }
}
resource "terraform_data" "second" {
  input      = "second"
  depends_on = [terraform_data.first]
  provisioner "local-exec" {
    command = var.fail ? "echo boom >&2; exit 3" : "echo second >> \${var.effects}/failing.log"
  }
}
`,
    });
    const ws = sb.workspace(sb.target("failing"), sb.stack(moduleDir, { fail: true, effects: sb.effects }, "failing"));
    const applied = await ws.apply(await ws.plan({}));
    assert.equal(applied.ok, false);
    assert.match(applied.error ?? "", /terraform_data\.second: local-exec provisioner error: .*exit status 3/);
    assert.deepEqual(applied.summary, { created: 1, updated: 0, replaced: 0, deleted: 0 });
    assert.equal(readFileSync(join(sb.effects, "failing.log"), "utf8"), "first\n");
    // The failed resource is tainted: the next plan replaces it and leaves the first alone.
    const fixed = sb.workspace(sb.target("failing"), sb.stack(moduleDir, { fail: false, effects: sb.effects }, "failing"));
    const replan = await fixed.plan({});
    assert.deepEqual(replan.changes.map((c) => [c.address, c.action]), [["terraform_data.first", "no-op"], ["terraform_data.second", "replace"]]);
    assert.match(replan.changes[1]?.replaceReason ?? "", /tainted/);
    assert.equal((await fixed.apply(replan)).ok, true);
    assert.equal(readFileSync(join(sb.effects, "failing.log"), "utf8"), "first\nsecond\n");
  });

  it("masks the target's credentials and the sensitive values in errors and logs of a failed apply", async () => {
    const moduleDir = sb.module("leaky", {
      "backend.tf": localBackend,
      "main.tf": `variable "db_password" {
  type      = string
  sensitive = true
}
resource "terraform_data" "db" {
  input = var.db_password
}
resource "terraform_data" "hook" {
  depends_on = [terraform_data.db]
  provisioner "local-exec" {
    command = "echo token is $WIDGET_API_KEY; echo again $WIDGET_API_KEY >&2; exit 1"
  }
}
`,
    });
    const target = sb.target("leaky", { env: { TF_CLI_CONFIG_FILE: sb.cliConfig, WIDGET_API_KEY: "credential-planted-55k" } });
    const ws = sb.workspace(target, sb.stack(moduleDir, { db_password: "dbpass-planted-77z" }, "leaky"));
    const plan = await ws.plan({});
    const applied = await ws.apply(plan);
    assert.equal(applied.ok, false);
    assert.match(applied.error ?? "", /token is \*\*\*/);
    const text = JSON.stringify({ plan, applied: { ...applied, outputs: undefined } });
    for (const planted of ["credential-planted-55k", "dbpass-planted-77z"]) assert.equal(text.includes(planted), false, planted);
  });

  it("fails init of a module with a provider that cannot be installed, naming the stack, the module and Terraform's reason", async () => {
    const moduleDir = sb.module("bad-provider", {
      "main.tf": `terraform {
  required_providers {
    widget = { source = "example.invalid/acme/widget" }
  }
}
resource "widget_thing" "x" {}
`,
    });
    const ws = sb.workspace(sb.target("bad"), sb.stack(moduleDir, {}, "bad"));
    await assert.rejects(ws.init(), (e: unknown) => {
      assert.ok(e instanceof TerraformError);
      assert.equal(e.operation, "init");
      assert.match(e.message, /^terraform stack dev\/bad \(module .*\/modules\/bad-provider\): init failed: Failed to query available provider packages: .*example\.invalid\/acme\/widget/);
      return true;
    });
    // Failed init is not remembered as done: the next operation runs it again.
    await assert.rejects(ws.plan({}), /init failed/);
  });

  it("runs init only when the lock file or the backend configuration changed", async () => {
    const moduleDir = sb.module("init-count", { "main.tf": valueTf, "backend.tf": localBackend });
    const runner = new CountingRunner();
    const stack = sb.stack(moduleDir, { value: "a" }, "init-count");
    const ws = sb.workspace(sb.target("init-count"), stack, runner);
    await ws.init();
    await ws.apply(await ws.plan({}));
    await ws.plan({});
    await ws.outputs();
    // A new revision of the module (another .tf file, other variables) needs no init.
    writeFileSync(join(moduleDir, "more.tf"), `resource "terraform_data" "more" {\n  input = "more"\n}\n`);
    const more = await sb.workspace(sb.target("init-count"), { ...stack, vars: { value: "b" } }, runner).plan({});
    assert.deepEqual(more.changes.map((c) => [c.address, c.action]), [["terraform_data.more", "create"], ["terraform_data.v", "update"]]);
    assert.equal(runner.count("init"), 1);
    // Another backend path: init again (and the state there is empty, so everything is created).
    const moved = await sb.workspace(sb.target("init-count-moved"), stack, runner).plan({});
    assert.equal(runner.count("init"), 2);
    assert.ok(moved.changes.every((c) => c.action === "create"));
    // A lock file in the module: init again.
    writeFileSync(join(moduleDir, ".terraform.lock.hcl"), "# This file is maintained automatically by \"terraform init\".\n");
    await sb.workspace(sb.target("init-count-moved"), stack, runner).plan({});
    assert.equal(runner.count("init"), 3);
  });

  it("feeds one stack's outputs to another through terraform_remote_state", async () => {
    const producer = sb.module("producer", { "main.tf": valueTf, "backend.tf": localBackend });
    const p = sb.workspace(sb.target("producer"), sb.stack(producer, { value: "10.0.0.0/16" }, "producer"));
    assert.equal((await p.apply(await p.plan({}))).ok, true);
    const consumer = sb.module("consumer", {
      "backend.tf": localBackend,
      "main.tf": `variable "producer_state" {
  type = string
}
data "terraform_remote_state" "net" {
  backend = "local"
  config  = { path = var.producer_state }
}
resource "terraform_data" "subnet" {
  input = cidrsubnet(data.terraform_remote_state.net.outputs.value, 8, 1)
}
output "subnet" {
  value = terraform_data.subnet.output
}
`,
    });
    const c = sb.workspace(sb.target("consumer"), sb.stack(consumer, { producer_state: sb.statePath("producer") }, "consumer"));
    const plan = await c.plan({});
    assert.deepEqual(plan.changes.map((ch) => [ch.address, ch.action]), [["terraform_data.subnet", "create"]]);
    assert.match(plan.changes[0]?.diff ?? "", /^\+ input = "10\.0\.1\.0\/24"$/m);
    const applied = await c.apply(plan);
    assert.deepEqual(applied.outputs["subnet"], { value: "10.0.1.0/24", sensitive: false });
  });

  it("validates without a backend: validate diagnostics with file and line, and the format check", async () => {
    const moduleDir = sb.module("invalid", {
      "backend.tf": localBackend,
      "main.tf": `resource "terraform_data" "x" {\n  input = "x"\n  bogus = 1\n}\n`,
      "ugly.tf": `output "o" {\nvalue = "o"\n}\n`,
    });
    const ws = sb.workspace(sb.target("never-used"), sb.stack(moduleDir, {}, "invalid"));
    const r = await ws.validate();
    assert.equal(r.ok, false);
    assert.ok(r.diagnostics.some((d) => /^error: main\.tf:3: Unsupported argument/.test(d)), r.diagnostics.join("\n"));
    assert.ok(r.diagnostics.includes("format: ugly.tf is not formatted (terraform fmt)"), r.diagnostics.join("\n"));
    const good = sb.module("valid", { "main.tf": valueTf });
    assert.deepEqual(await sb.workspace(sb.target("never-used"), sb.stack(good, {}, "valid")).validate(), { ok: true, diagnostics: [] });
  });

  it("runs one operation per working directory at a time", async () => {
    const moduleDir = sb.module("serial", { "main.tf": valueTf, "backend.tf": localBackend });
    const runner = new CountingRunner();
    const stack = sb.stack(moduleDir, { value: "s" }, "serial");
    const a = sb.workspace(sb.target("serial"), stack, runner);
    const b = sb.workspace(sb.target("serial"), stack, runner);
    // Unserialized, the two would share the private copy and race on the first init.
    const [pa, pb] = await Promise.all([a.plan({}), b.plan({})]);
    assert.equal(runner.count("init"), 1);
    assert.notEqual(pa.planFile, pb.planFile);
    assert.equal((await a.apply(pa)).ok, true);
    await assert.rejects(b.apply(pb), StalePlanError);
  });
});
