import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { builtinPolicies, type BuiltinSelection } from "../../src/policy/index.ts";
import { context, fixture, load } from "./helpers.ts";

interface Case {
  readonly fixture: string;
  readonly expected: readonly string[];
  readonly selection?: Partial<BuiltinSelection>;
}

const table: Readonly<Record<string, readonly Case[]>> = {
  "no-latest-image": [
    { fixture: "deployment-compliant", expected: [] },
    { fixture: "deployment-net-bind-service", expected: [] },
    { fixture: "deployment-latest-image", expected: ["error: images must be pinned to a tag other than latest, or to a digest: api (nginx:latest)"] },
    { fixture: "deployment-untagged-image", expected: ["error: images must be pinned to a tag other than latest, or to a digest: api (registry.acme.io:5000/acme/api)"] },
    { fixture: "pod-init-container-latest", expected: ["error: images must be pinned to a tag other than latest, or to a digest: wait (busybox:latest)"] },
    { fixture: "cronjob-untagged-image", expected: ["error: images must be pinned to a tag other than latest, or to a digest: backup (postgres)"] },
    { fixture: "configmap-labelled", expected: [] },
  ],
  "resources-required": [
    { fixture: "deployment-compliant", expected: [] },
    { fixture: "statefulset-missing-limits", expected: ["error: containers must set CPU and memory requests and limits: postgres lacks limits.cpu limits.memory"] },
    {
      fixture: "job-init-container-without-resources",
      expected: ["error: containers must set CPU and memory requests and limits: fetch lacks requests.cpu requests.memory limits.cpu limits.memory"],
    },
    { fixture: "service-clusterip", expected: [] },
  ],
  "no-privileged": [
    { fixture: "deployment-compliant", expected: [] },
    { fixture: "daemonset-privileged", expected: ["error: containers must not run privileged: agent"] },
    { fixture: "daemonset-privileged", selection: { environments: { dev: { enforcement: "warn" } } }, expected: ["warning: containers must not run privileged: agent"] },
  ],
  "no-host-path": [
    { fixture: "deployment-compliant", expected: [] },
    { fixture: "pod-host-pid", expected: [] },
    { fixture: "daemonset-host-path", expected: ["error: hostPath volumes are not allowed: varlog"] },
  ],
  "no-host-namespaces": [
    { fixture: "deployment-compliant", expected: [] },
    { fixture: "replicaset-host-network", expected: ["error: pods must not share host namespaces: hostNetwork"] },
    { fixture: "pod-host-pid", expected: ["error: pods must not share host namespaces: hostPID, hostIPC"] },
  ],
  "no-added-capabilities": [
    { fixture: "deployment-compliant", expected: [] },
    { fixture: "deployment-added-capabilities", expected: ["error: containers must not add capabilities: vpn adds NET_ADMIN NET_BIND_SERVICE"] },
    { fixture: "deployment-net-bind-service", expected: ["error: containers must not add capabilities: nginx adds NET_BIND_SERVICE"] },
    { fixture: "deployment-net-bind-service", selection: { params: { allow: ["NET_BIND_SERVICE"] } }, expected: [] },
    { fixture: "deployment-added-capabilities", selection: { params: { allow: ["NET_BIND_SERVICE"] } }, expected: ["error: containers must not add capabilities: vpn adds NET_ADMIN"] },
  ],
  "required-labels": [
    { fixture: "deployment-compliant", expected: [] },
    { fixture: "configmap-labelled", expected: [] },
    { fixture: "configmap-unlabelled", expected: ["error: missing required labels: team"] },
    { fixture: "namespace-no-labels", expected: ["error: missing required labels: app, team"] },
    { fixture: "namespace-no-labels", selection: { params: { labels: ["owner"] }, enforcement: "warn" }, expected: ["warning: missing required labels: owner"] },
  ],
  "no-external-services": [
    { fixture: "service-clusterip", expected: [] },
    { fixture: "service-loadbalancer", expected: ["warning: Service type LoadBalancer exposes it outside the cluster; prefer an Ingress or a Gateway"] },
    { fixture: "service-nodeport", expected: ["warning: Service type NodePort exposes it outside the cluster; prefer an Ingress or a Gateway"] },
    { fixture: "service-nodeport", selection: { enforcement: "deny" }, expected: ["error: Service type NodePort exposes it outside the cluster; prefer an Ingress or a Gateway"] },
  ],
  "terraform-no-destroy-protected": [
    { fixture: "tf-module", expected: [] },
    { fixture: "tf-db-delete-untagged", expected: [] },
    { fixture: "tf-db-delete-protected", expected: ["error: the plan would delete aws_db_instance.main, which is protected"] },
    { fixture: "tf-data-replace", expected: [] },
    { fixture: "tf-data-replace", selection: { params: { addresses: ["terraform_data.db"] } }, expected: ["error: the plan would replace terraform_data.db, which is protected"] },
  ],
  "terraform-replace-needs-exemption": [
    { fixture: "tf-module", expected: [] },
    { fixture: "tf-db-delete-protected", expected: [] },
    {
      fixture: "tf-data-replace",
      expected: ["error: the plan would replace terraform_data.db (triggers_replace forces replacement); add its address to params.allow of terraform-replace-needs-exemption to let it through"],
    },
    { fixture: "tf-data-replace", selection: { params: { allow: ["terraform_data.db"] } }, expected: [] },
  ],
  "secrets-encrypted": [
    { fixture: "secret-sops-encrypted", expected: [] },
    { fixture: "secret-empty", expected: [] },
    { fixture: "configmap-labelled", expected: [] },
    { fixture: "secret-plaintext", expected: ["error: Secret has data but is not SOPS-encrypted (no sops section); encrypt it with sops before committing"] },
  ],
};

const defaultParams: Readonly<Record<string, Readonly<Record<string, unknown>>>> = { "required-labels": { labels: ["app", "team"] } };

describe("built-in policies", () => {
  it("has a table of cases for every built-in", () => {
    assert.deepEqual(Object.keys(table).sort(), [...builtinPolicies().keys()].sort());
  });

  it("documents every built-in in docs/policies.md", () => {
    const docs = readFileSync(new URL("../../docs/policies.md", import.meta.url), "utf8");
    for (const name of builtinPolicies().keys()) assert.match(docs, new RegExp(`### \`${name}\``), `docs/policies.md has no section for ${name}`);
  });

  for (const [name, cases] of Object.entries(table)) {
    describe(name, () => {
      for (const c of cases) {
        const how = c.selection === undefined ? "" : ` with ${JSON.stringify(c.selection)}`;
        it(`${c.expected.length === 0 ? "passes" : "flags"} ${c.fixture}${how}`, () => {
          const params = c.selection?.params ?? defaultParams[name];
          const set = load({}, [{ name, ...c.selection, ...(params === undefined ? {} : { params }) }]);
          const { findings } = set.evaluate([fixture(c.fixture)], context("dev"));
          for (const f of findings) assert.equal(f.rule, `policy.${name}`);
          assert.deepEqual(findings.map((f) => `${f.severity}: ${f.message}`), c.expected);
        });
      }
    });
  }
});
