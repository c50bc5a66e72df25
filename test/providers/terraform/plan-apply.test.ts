import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { StalePlanError } from "../../../src/providers/terraform/errors.ts";
import type { TerraformPlan } from "../../../src/providers/terraform/types.ts";
import { localBackend, makeTfSandbox, requireTerraform, type TfSandbox } from "../../support/terraform.ts";

const secret = "planted-Pa55word-7Q2x";

const mainTf = `variable "name" {
  type = string
}
variable "size" {
  type    = number
  default = 1
}
variable "extra" {
  type    = bool
  default = true
}
variable "password" {
  type      = string
  sensitive = true
}
variable "effects" {
  type = string
}

resource "terraform_data" "config" {
  input = { name = var.name, size = var.size }
}

resource "terraform_data" "server" {
  input            = var.name
  triggers_replace = [var.size]
  provisioner "local-exec" {
    command = "echo created >> \${var.effects}/server.log"
  }
}

resource "terraform_data" "extra" {
  count = var.extra ? 1 : 0
  input = "extra"
}

resource "terraform_data" "credentials" {
  input = { user = "app", password = var.password }
}

output "name" {
  value = terraform_data.config.output.name
}
output "password" {
  value     = var.password
  sensitive = true
}
`;

const byAddress = (plan: TerraformPlan): Record<string, string> => Object.fromEntries(plan.changes.map((c) => [c.address, c.action]));

describe("TerraformWorkspace plan and apply (real terraform)", () => {
  let sb: TfSandbox;
  before(() => {
    requireTerraform();
    sb = makeTfSandbox();
  });
  after(() => sb.remove());

  it("plans create, update, replace and delete with attribute diffs, applies the saved plan once, and masks the sensitive value everywhere", async () => {
    const moduleDir = sb.module("app", { "main.tf": mainTf, "backend.tf": localBackend });
    const vars = { name: "alpha", size: 1, extra: true, password: secret, effects: sb.effects };
    const target = sb.target("app");
    const ws = sb.workspace(target, sb.stack(moduleDir, vars));
    const shown: unknown[] = [];

    const first = await ws.plan({});
    shown.push(first);
    assert.deepEqual(byAddress(first), {
      "terraform_data.config": "create", "terraform_data.server": "create", "terraform_data.extra[0]": "create", "terraform_data.credentials": "create",
    });
    assert.equal(first.hasChanges, true);
    assert.ok(existsSync(first.planFile));
    const creds = first.changes.find((c) => c.address === "terraform_data.credentials");
    assert.deepEqual(creds?.after, { input: { user: "app", password: "(sensitive value)" }, triggers_replace: null });
    assert.match(creds?.diff ?? "", /^\+ id = \(known after apply\)$/m);
    assert.match(creds?.diff ?? "", /^\+ input\.password = \(sensitive value\)$/m);
    assert.deepEqual(first.outputChanges.find((o) => o.name === "password"), { name: "password", action: "create", sensitive: true });
    // The variables file is in the private copy, never in the module directory.
    assert.equal(existsSync(join(moduleDir, "gitward.auto.tfvars.json")), false);

    const applied = await ws.apply(first);
    shown.push({ ...applied, outputs: undefined });
    assert.equal(applied.ok, true, applied.error);
    assert.deepEqual(applied.summary, { created: 4, updated: 0, replaced: 0, deleted: 0 });
    assert.deepEqual(applied.outputs["name"], { value: "alpha", sensitive: false });
    assert.deepEqual(applied.outputs["password"], { value: secret, sensitive: true });
    assert.equal(readFileSync(join(sb.effects, "server.log"), "utf8"), "created\n");
    assert.match(applied.log, /Apply complete! Resources: 4 added/);

    // The same saved plan again: the state moved since it was made, so it is stale, and nothing runs twice.
    await assert.rejects(ws.apply(first), (e: unknown) => {
      assert.ok(e instanceof StalePlanError);
      assert.match(e.message, /terraform stack dev\/net \(module .*app\): apply failed: Saved plan is stale/);
      shown.push(e.message);
      return true;
    });
    assert.equal(readFileSync(join(sb.effects, "server.log"), "utf8"), "created\n");

    const next = sb.workspace(target, sb.stack(moduleDir, { ...vars, name: "beta", size: 2, extra: false }));
    const second = await next.plan({});
    shown.push(second);
    assert.deepEqual(byAddress(second), {
      "terraform_data.config": "update", "terraform_data.server": "replace", "terraform_data.extra[0]": "delete", "terraform_data.credentials": "no-op",
    });
    const config = second.changes.find((c) => c.address === "terraform_data.config");
    assert.match(config?.diff ?? "", /^~ input\.name: "alpha" → "beta"$/m);
    assert.match(config?.diff ?? "", /^~ input\.size: 1 → 2$/m);
    const server = second.changes.find((c) => c.address === "terraform_data.server");
    assert.match(server?.replaceReason ?? "", /triggers_replace/);
    assert.match(server?.diff ?? "", /^~ triggers_replace\[0\]: 1 → 2 {2}# forces replacement$/m);
    assert.match(second.changes.find((c) => c.action === "delete")?.diff ?? "", /^- input = "extra"$/m);

    const applied2 = await next.apply(second);
    shown.push({ ...applied2, outputs: undefined });
    assert.equal(applied2.ok, true, applied2.error);
    assert.deepEqual(applied2.summary, { created: 0, updated: 1, replaced: 1, deleted: 1 });
    assert.equal(readFileSync(join(sb.effects, "server.log"), "utf8"), "created\ncreated\n");

    const again = await next.plan({});
    assert.equal(again.hasChanges, false);
    const destroy = await next.plan({ destroy: true });
    shown.push(destroy);
    assert.deepEqual(new Set(destroy.changes.map((c) => c.action)), new Set(["delete"]));

    const text = JSON.stringify(shown);
    assert.ok(text.includes("(sensitive value)"));
    assert.equal(text.includes(secret), false, "the planted secret shows in what the workspace returned");
  });
});
