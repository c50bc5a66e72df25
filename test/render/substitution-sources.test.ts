import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { getPath } from "../../src/core/object.ts";
import type { RenderResult } from "../../src/render/renderer.ts";
import { readTreeFiles } from "../support/cli.ts";
import { testWorkspace } from "../support/engine.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

// Which `${…}` are gitward's, and where a failing one is reported, on real repositories and
// real kustomize builds (docs/rendering.md, "Which references are gitward's").

const fixture = "test/render/fixtures/podinfo-deploy";
const podinfoFiles = (): Record<string, string> => {
  const { ["README.md"]: _readme, ...files } = readTreeFiles(fixture);
  return files;
};

const config = (stacks: string): string => `version: 1
environments:
  dev:
    vars: { greeting: hello }
    targets: { cluster: { provider: kubernetes } }
  prod:
    vars: { greeting: hi, tier: gold }
    targets: { cluster: { provider: kubernetes } }
stacks:
${stacks}`;

const stack = (name: string, path: string, extra = ""): string => `  ${name}:\n    target: cluster\n    path: ${path}\n${extra}`;

const cm = (name: string, body: string, metadata = ""): string =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${metadata}data:\n${body}`;

function located(r: RenderResult | undefined): string {
  assert.ok(r !== undefined && !r.ok, "the stack must fail");
  return r.error.message;
}

function dataOf(r: RenderResult | undefined, name: string): unknown {
  assert.ok(r?.ok, r?.ok === false ? r.error.message : "no result");
  // A generated ConfigMap's name ends in its content hash.
  return getPath(r.objects.find((o) => o.ref.name === name || o.ref.name.startsWith(`${name}-`))?.object, ["data"]);
}

describe("substitution on repositories not written for gitward", () => {
  let repo: TestRepo;
  before(() => {
    repo = makeRepo();
  });
  after(() => repo.remove());

  const evaluate = async (sha?: string) => {
    const t = await testWorkspace(repo.dir);
    try {
      return await t.evaluate(sha);
    } finally {
      await t.close();
    }
  };
  const render = async (name: string, environment = "dev", sha?: string): Promise<RenderResult | undefined> =>
    (await evaluate(sha)).renders.find((r) => r.instance.stack === name && r.instance.environment === environment);

  it("validates podinfo's deploy/ as it is: the generators' shell scripts keep their ${…}", async () => {
    repo.commit({ ...podinfoFiles(), "gitward.yaml": config(stack("podinfo", "deploy/overlays/dev")) });
    const ev = await evaluate();
    assert.deepEqual(ev.findings.filter((f) => f.severity === "error"), []);
    for (const r of ev.renders) {
      const script = (file: string): string => readFileSync(join(import.meta.dirname, "../..", fixture, "deploy/bases", file), "utf8");
      assert.deepEqual(dataOf(r, "backup-script"), { "backup.sh": script("database/scripts/backup.sh") });
      assert.deepEqual(dataOf(r, "warm-cache-script"), {
        "warm-cache.sh": script("frontend/scripts/warm-cache.sh"),
        "warm-cache-init.sh": script("frontend/scripts/warm-cache-init.sh"),
      });
    }
  });

  it("substitutes gitward's variables in the same scripts and manifests", async () => {
    repo.commit({
      "gitward.yaml": config(stack("podinfo", "deploy/overlays/dev")),
      "deploy/bases/database/scripts/backup.sh": "#!/bin/sh\necho \"${greeting} from ${GITWARD_ENVIRONMENT}\"\nexit ${BACKUP_EXIT:-0}\n",
      "deploy/overlays/dev/namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: dev\n  labels:\n    tier: ${tier:=bronze}\n",
    });
    const dev = await render("podinfo", "dev");
    assert.deepEqual(dataOf(dev, "backup-script"), { "backup.sh": "#!/bin/sh\necho \"hello from dev\"\nexit ${BACKUP_EXIT:-0}\n" });
    assert.ok(dev?.ok);
    assert.equal(getPath(dev.objects.find((o) => o.ref.kind === "Namespace")?.object, ["metadata", "labels", "tier"]), "bronze");
    const prod = await render("podinfo", "prod");
    assert.ok(prod?.ok);
    assert.equal(getPath(prod.objects.find((o) => o.ref.kind === "Namespace")?.object, ["metadata", "labels", "tier"]), "gold");
  });

  it("refuses every undefined ${…} with substitute: strict, at the script's line", async () => {
    repo.commit({
      ...podinfoFiles(),
      "gitward.yaml": config(stack("podinfo", "deploy/overlays/dev", "    substitute: strict\n")),
    });
    assert.equal(
      located(await render("podinfo")),
      'deploy/bases/frontend/scripts/warm-cache-init.sh:6:30: variable "FRONTEND" is not defined and has no default',
    );
  });

  it("reports a typo in a kustomize base at the base file's line, not in the overlay's kustomization", async () => {
    repo.commit({
      "gitward.yaml": config(stack("proxy", "proxy/overlays/prod")),
      "proxy/base/kustomization.yaml": "resources:\n  - proxy.yaml\n",
      "proxy/base/proxy.yaml": cm("proxy", "  note: |\n    # the proxy's banner\n    banner=${greeting}\n  welcome: ${greting}, world\n",
        "  labels:\n    app: proxy\n  annotations:\n    owner: platform\n"),
      "proxy/overlays/prod/kustomization.yaml": [
        "apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "resources:", "  - ../../base",
        "namePrefix: prod-", "commonLabels:", "  env: prod", "namespace: edge", "",
      ].join("\n"),
    });
    const error = located(await render("proxy"));
    assert.equal(error, 'proxy/base/proxy.yaml:13:12: variable "greting" is not defined; did you mean ${greeting}?');
  });

  it("reports a typo in a generator's file at that file's line", async () => {
    repo.commit({
      "gitward.yaml": config(stack("jobs", "jobs")),
      "jobs/kustomization.yaml": "configMapGenerator:\n  - name: run\n    files:\n      - scripts/run.sh\n      - other=scripts/other.sh\n",
      "jobs/scripts/other.sh": "#!/bin/sh\necho \"${USER}\"\n",
      "jobs/scripts/run.sh": "#!/bin/sh\nset -e\necho \"${USER}\"\necho \"${greting}, ${USER}\"\n",
    });
    assert.equal(located(await render("jobs")), 'jobs/scripts/run.sh:4:7: variable "greting" is not defined; did you mean ${greeting}?');
  });

  it("reports a reference in an overlay's inline patch at the kustomization's line", async () => {
    repo.commit({
      "gitward.yaml": config(stack("proxy", "proxy/overlays/prod")),
      "proxy/base/proxy.yaml": cm("proxy", "  welcome: ${greeting}\n"),
      "proxy/overlays/prod/kustomization.yaml": [
        "resources:", "  - ../../base", "patches:", "  - target: { kind: ConfigMap }", "    patch: |-",
        "      - op: add", "        path: /data/tier", "        value: ${Tier}", "",
      ].join("\n"),
    });
    assert.equal(located(await render("proxy")), 'proxy/overlays/prod/kustomization.yaml:8:16: variable "Tier" is not defined; did you mean ${tier}?');
  });

  it("points at the ${…} inside a block scalar of a plain manifest", async () => {
    repo.commit({
      "gitward.yaml": config(stack("app", "app")),
      "app/cm.yaml": cm("app", "  run.sh: |\n    #!/bin/sh\n    echo ${HOME}\n    echo ${greeting} ${greting}\n"),
    });
    assert.equal(located(await render("app")), 'app/cm.yaml:9:22: variable "greting" is not defined; did you mean ${greeting}?');
  });

  it("still requires, where it is not set, a variable declared for another environment", async () => {
    repo.commit({ "app/cm.yaml": cm("app", "  run.sh: |\n    #!/bin/sh\n    echo ${tier} ${HOME}\n") });
    assert.equal(located(await render("app", "dev")), 'app/cm.yaml:8:10: variable "tier" is not defined in this environment and has no default');
    assert.deepEqual(dataOf(await render("app", "prod"), "app"), { "run.sh": "#!/bin/sh\necho gold ${HOME}\n" });
  });

  it("renders again when a name is declared for another environment, though this one's vars did not change", async () => {
    const text = cm("app", "  run.sh: |\n    echo ${level:-info}\n");
    repo.commit({ "gitward.yaml": config(stack("app", "app")), "app/cm.yaml": text });
    const t = await testWorkspace(repo.dir);
    try {
      const before = (await t.evaluate()).renders.find((r) => r.instance.environment === "dev");
      assert.deepEqual(dataOf(before, "app"), { "run.sh": "echo ${level:-info}\n" }, "not gitward's: left as written");
      repo.commit({ "gitward.yaml": config(stack("app", "app", "    environments:\n      prod: { vars: { level: debug } }\n")) });
      const after = (await t.evaluate()).renders.find((r) => r.instance.environment === "dev");
      assert.equal(after?.ok === true && after.cached, false);
      assert.deepEqual(dataOf(after, "app"), { "run.sh": "echo info\n" }, "declared for the stack: its default applies in dev");
    } finally {
      await t.close();
    }
  });

  it("keeps gitward's one-line values strict: an unknown name there is an error", async () => {
    repo.commit({ "app/cm.yaml": cm("app", "  run.sh: |\n    echo ${HOME}\n  owner: ${owner}\n") });
    assert.equal(located(await render("app")), 'app/cm.yaml:8:10: variable "owner" is not defined and has no default');
  });

  const optOuts: { name: string; files: Record<string, string | null> }[] = [
    {
      name: "Flux's annotation on a generated ConfigMap",
      files: {
        "jobs/kustomization.yaml": "configMapGenerator:\n  - name: run\n    files: [scripts/run.sh]\n    options:\n      annotations:\n        kustomize.toolkit.fluxcd.io/substitute: disabled\n",
        "jobs/scripts/run.sh": "echo \"${greting} ${greeting}\"\n",
      },
    },
    {
      name: "gitward's annotation on a generated ConfigMap",
      files: {
        "jobs/kustomization.yaml": "configMapGenerator:\n  - name: run\n    files: [scripts/run.sh]\n    options:\n      annotations:\n        gitward.dev/substitute: disabled\n",
        "jobs/scripts/run.sh": "echo \"${greting} ${greeting}\"\n",
      },
    },
    {
      name: "Flux's label on a plain manifest",
      files: {
        "jobs/kustomization.yaml": null,
        "jobs/cm.yaml": cm("run", "  run.sh: echo \"${greting} ${greeting}\"\n", "  labels:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\n"),
      },
    },
  ];
  for (const c of optOuts) {
    it(`leaves an object alone when it opts out: ${c.name}`, async () => {
      repo.commit({ "gitward.yaml": config(stack("jobs", "jobs")), "jobs/scripts/run.sh": null, ...c.files });
      const data = dataOf(await render("jobs"), "run") as Record<string, string>;
      assert.deepEqual(Object.values(data), [`echo "\${greting} \${greeting}"${c.name.includes("plain") ? "" : "\n"}`]);
    });
  }
});
