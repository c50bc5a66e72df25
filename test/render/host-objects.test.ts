import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { getPath } from "../../src/core/object.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";
import { testWorkspace } from "../support/engine.ts";

const config = `version: 1
environments:
  dev:
    vars: { domain: dev.example.com, port: "8080" }
    targets:
      edge: { provider: host, root: /srv/edge }
      cluster: { provider: kubernetes }
stacks:
  edge:
    target: edge
    path: edge
`;

const fileObj = (name: string, spec: string): string => `apiVersion: host.gitward.dev/v1alpha1
kind: File
metadata:
  name: ${name}
spec:
${spec}`;

describe("host objects: rendering and checks", () => {
  let repo: TestRepo;
  before(() => {
    repo = makeRepo();
  });
  after(() => repo.remove());

  const evaluate = async (): Promise<Awaited<ReturnType<Awaited<ReturnType<typeof testWorkspace>>["evaluate"]>>> => {
    const t = await testWorkspace(repo.dir);
    try {
      return await t.evaluate();
    } finally {
      await t.close();
    }
  };

  it("inlines spec.source from the stack directory with substitution; a .yaml source is data, not a manifest", async () => {
    repo.commit({
      "gitward.yaml": config,
      "edge/site.yaml": fileObj("site", `  path: conf.d/site.conf\n  mode: "0640"\n  source: files/site.conf\n`),
      "edge/files/site.conf": "server_name ${domain};\nlisten ${port};\nset $$x $${host};\nproxy_set_header Host ${host};\n",
      "edge/values.yaml": fileObj("values", `  path: values.yaml\n  source: data/values.yaml\n`),
      "edge/data/values.yaml": "not: [a, manifest\n",
      "edge/raw.yaml": `apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata:\n  name: raw\n  annotations: { gitward.dev/substitute: disabled }\nspec:\n  path: raw.txt\n  source: raw.txt\n`,
      "edge/raw.txt": "keep ${this}\n",
    });
    const e = await evaluate();
    assert.deepEqual(e.findings.filter((f) => f.severity === "error"), []);
    const r = e.renders[0];
    assert.ok(r?.ok);
    const byName = new Map(r.objects.map((o) => [o.ref.name, o.object]));
    assert.deepEqual([...byName.keys()].sort(), ["raw", "site", "values"]);
    // ${host} is not a gitward variable, and a file is multi-line text: it is left as written.
    assert.equal(getPath(byName.get("site"), ["spec", "content"]), "server_name dev.example.com;\nlisten 8080;\nset $$x ${host};\nproxy_set_header Host ${host};\n");
    assert.equal(getPath(byName.get("site"), ["spec", "source"]), undefined);
    assert.equal(getPath(byName.get("values"), ["spec", "content"]), "not: [a, manifest\n");
    assert.equal(getPath(byName.get("raw"), ["spec", "content"]), "keep ${this}\n");
  });

  it("reports a missing source, a source outside the stack, and an undefined variable with file and line", async () => {
    repo.commit({ "edge/site.yaml": fileObj("site", `  path: a.conf\n  source: nope.conf\n`), "edge/values.yaml": null, "edge/data/values.yaml": null, "edge/raw.yaml": null, "edge/raw.txt": null });
    let e = await evaluate();
    assert.match(e.findings.map((f) => `${f.location?.file}:${f.location?.line}: ${f.message}`).join("\n"), /edge\/site\.yaml:1: spec\.source "nope\.conf": no such file/);
    repo.commit({ "edge/site.yaml": fileObj("site", `  path: a.conf\n  source: ../gitward.yaml\n`) });
    e = await evaluate();
    assert.match(e.findings.map((f) => f.message).join("\n"), /must be a path inside the stack directory/);
    repo.commit({ "edge/site.yaml": fileObj("site", `  path: a.conf\n  source: files/site.conf\n`), "edge/files/site.conf": "# site\nlisten ${prot};\n" });
    e = await evaluate();
    assert.deepEqual(e.findings.filter((f) => f.rule === "render.variable").map((f) => `${f.location?.file}:${f.location?.line}:${f.location?.column}: ${f.message}`), [
      "edge/files/site.conf:2:8: variable \"prot\" is not defined; did you mean ${port}?",
    ]);
  });

  it("checks host objects: escaping paths, numeric modes, unknown fields, wrong kinds and path clashes", async () => {
    repo.commit({
      "edge/files/site.conf": null,
      "edge/site.yaml": [
        fileObj("escape", `  path: ../etc/passwd\n  content: x\n`),
        fileObj("numeric", `  path: a.conf\n  mode: 0644\n  content: x\n`),
        fileObj("unknown", `  path: b.conf\n  content: x\n  colour: red\n`),
        fileObj("state", `  path: .gitward/inventory/x.json\n  content: x\n`),
        fileObj("clash", `  path: c.conf\n  content: x\n`),
        fileObj("clash2", `  path: ./c.conf\n  content: y\n`),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: wrong-target\n",
      ].join("---\n"),
    });
    const e = await evaluate();
    const messages = e.findings.filter((f) => f.severity === "error").map((f) => `${f.ref?.name ?? "-"}: ${f.message}`).sort();
    assert.deepEqual(messages.map((m) => m.split(":")[0]), ["clash2", "escape", "numeric", "state", "unknown", "wrong-target"]);
    const text = messages.join("\n");
    assert.match(text, /escape: spec\.path: path "\.\.\/etc\/passwd" escapes the target root/);
    assert.match(text, /numeric: spec\.mode: must be a quoted octal string/);
    assert.match(text, /unknown: spec: unknown field "colour"/);
    assert.match(text, /state: spec\.path: .*\.gitward/);
    assert.match(text, /clash2: File\/clash2 manages path c\.conf, already managed by File\/clash/);
    assert.match(text, /wrong-target: a host target manages host\.gitward\.dev\/v1alpha1 File and Directory objects, not v1 ConfigMap/);
  });

  it("refuses host objects in a Kubernetes stack", async () => {
    repo.commit({
      "gitward.yaml": `${config}  misplaced:\n    target: cluster\n    path: k8s\n`,
      "edge/site.yaml": fileObj("ok", `  path: ok.conf\n  content: ok\n`),
      "k8s/file.yaml": fileObj("misplaced", `  path: a.conf\n  content: x\n`),
    });
    const e = await evaluate();
    const errors = e.findings.filter((f) => f.severity === "error");
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0]?.message ?? "", /File\/misplaced is a host object, but this stack deploys to a kubernetes target/);
  });

  const located = (e: Awaited<ReturnType<typeof evaluate>>): string[] =>
    e.findings.filter((f) => f.severity === "error").map((f) => `${f.location?.file}:${f.location?.line}: ${f.ref?.kind}/${f.ref?.name}: ${f.message} (${f.rule})`).sort();

  it("refuses setuid and setgid, and sticky on a File, naming the object, the line of spec.mode and the bits", async () => {
    repo.commit({
      "gitward.yaml": config,
      "k8s/file.yaml": null,
      "edge/site.yaml": [
        fileObj("suid", `  path: bin/tool\n  owner: root\n  mode: "6777"\n  content: x\n`),
        fileObj("sticky", `  path: a.conf\n  mode: "1644"\n  content: x\n`),
        "apiVersion: host.gitward.dev/v1alpha1\nkind: Directory\nmetadata:\n  name: shared\nspec:\n  path: shared\n  mode: \"2775\"\n",
        "apiVersion: host.gitward.dev/v1alpha1\nkind: Directory\nmetadata:\n  name: tmp\nspec:\n  path: tmp\n  mode: \"1777\"\n",
        fileObj("plain", `  path: b.conf\n  mode: "0755"\n  content: x\n`),
      ].join("---\n"),
    });
    assert.deepEqual(located(await evaluate()), [
      'edge/site.yaml:17: File/sticky: spec.mode: "1644" sets sticky (01000): gitward refuses setuid, setgid and sticky bits on a File; use "0644" (host.special-mode)',
      'edge/site.yaml:26: Directory/shared: spec.mode: "2775" sets setgid (02000): gitward refuses setuid and setgid bits on a Directory; use "0775" (host.special-mode)',
      'edge/site.yaml:8: File/suid: spec.mode: "6777" sets setuid (04000) and setgid (02000): gitward refuses setuid, setgid and sticky bits on a File; use "0777" (host.special-mode)',
    ]);
  });

  it("refuses control characters in File and Directory paths, naming the line of spec.path", async () => {
    repo.commit({
      "edge/site.yaml": [
        fileObj("newline", `  path: "conf.d/a\\n.conf"\n  content: x\n`),
        fileObj("del", `  path: "b\\x7f.conf"\n  content: x\n`),
        "apiVersion: host.gitward.dev/v1alpha1\nkind: Directory\nmetadata:\n  name: tab\nspec:\n  path: \"d\\tir\"\n",
      ].join("---\n"),
    });
    assert.deepEqual(located(await evaluate()), [
      'edge/site.yaml:14: File/del: spec.path: path "b\\u007f.conf" contains the control character U+007F; paths may not contain U+0000–U+001F or U+007F (schema)',
      'edge/site.yaml:22: Directory/tab: spec.path: path "d\\tir" contains the control character U+0009; paths may not contain U+0000–U+001F or U+007F (schema)',
      'edge/site.yaml:6: File/newline: spec.path: path "conf.d/a\\n.conf" contains the control character U+000A; paths may not contain U+0000–U+001F or U+007F (schema)',
    ]);
  });

  it("refuses a control character in spec.source, naming its file and line", async () => {
    repo.commit({ "edge/site.yaml": fileObj("source", `  path: ok.conf\n  source: "files/a\\nb"\n`), "edge/files/a\nb": "x\n" });
    const e = await evaluate();
    assert.match(e.findings.map((f) => `${f.location?.file}:${f.location?.line}: ${f.message}`).join("\n"), /edge\/site\.yaml:\d+: .*control character U\+000A/);
  });

  it("spec.sensitive hides a File's content in the offline plan too", async () => {
    const base = repo.commit({ "edge/site.yaml": fileObj("key", `  path: key.txt\n  sensitive: true\n  content: first-value\n`) });
    repo.commit({ "edge/site.yaml": fileObj("key", `  path: key.txt\n  sensitive: true\n  content: second-value\n`) });
    const t = await testWorkspace(repo.dir);
    try {
      const text = JSON.stringify((await t.plan(base)).plan);
      assert.doesNotMatch(text, /first-value|second-value/);
      assert.match(text, /content: \\"\*\*\* \(changed\)\\"/);
    } finally {
      await t.close();
    }
  });
});
