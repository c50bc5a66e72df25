import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { checkSopsFile } from "../../src/check/sops-files.ts";
import type { SopsRecipients } from "../../src/check/sops.ts";
import type { RenderedObject } from "../../src/core/object.ts";
import { sopsFormatOf } from "../../src/sops/format.ts";

const fixtures = fileURLToPath(new URL("../fixtures/sops/", import.meta.url));
const fluxAge = "age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29";
const otherAge = "age1henwn645drkd3fa34t27t2w2x0nsgw3w4h62gmg5x5xflyjpy38s5cncph";
const pgp1 = "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4";
const pgp2 = "D7229043384BCC60326C6FB9D8720D957C3D3074";

/** A host File whose spec.source was the fixture, as render leaves it: its content encrypted, its format known. */
function hostFile(path: string): RenderedObject {
  const content = readFileSync(join(fixtures, path), "utf8");
  const sopsFile = sopsFormatOf(path, Buffer.from(content));
  assert.ok(sopsFile !== undefined, `${path} is seen as a SOPS file`);
  return {
    object: { apiVersion: "host.gitward.dev/v1alpha1", kind: "File", metadata: { name: "f" }, spec: { path: "/etc/f", content } },
    ref: { group: "host.gitward.dev", kind: "File", name: "f" }, apiVersion: "host.gitward.dev/v1alpha1",
    source: { file: "site/file.yaml", line: 3 }, sopsFile,
  };
}

describe("keyless checks of SOPS files named by a host File's spec.source", () => {
  const cases = [
    ["fluxcd-kustomize-controller/envs/env.env", "dotenv", [fluxAge]],
    ["fluxcd-kustomize-controller/files/file.txt", "binary", [fluxAge]],
    ["getsops-sops/example.ini", "ini", [pgp1, pgp2]],
    ["getsops-sops/functional-tests/format.enc.json", "json", [pgp1]],
    ["getsops-sops/example.yaml", "yaml", [pgp1, pgp2]],
  ] as const;
  for (const [path, format, own] of cases) {
    it(`passes ${path} (${format}) for an environment it is encrypted for`, () => {
      const file = hostFile(path);
      assert.equal(file.sopsFile, format);
      const findings = checkSopsFile(file, "dev", new Map([["dev", [...own]]]));
      assert.deepEqual(findings.map((f) => `${f.rule}: ${f.message}`), []);
    });
    it(`refuses ${path} (${format}) for an environment it is not encrypted for, at the File`, () => {
      const recipients: SopsRecipients = new Map([["prod", [otherAge]], ["dev", [...own]]]);
      const findings = checkSopsFile(hostFile(path), "prod", recipients);
      assert.ok(findings.length > 0);
      const first = findings[0]!;
      assert.equal(first.rule, "sops.recipient");
      assert.equal(first.field, "spec.source");
      assert.deepEqual(first.location, { file: "site/file.yaml", line: 3 });
      assert.match(first.message, new RegExp(`^spec\\.source \\(${format} file\\): encrypted for .*\\(dev's\\)`));
    });
  }

  it("refuses a dotenv file whose MAC line was removed", () => {
    const file = hostFile("fluxcd-kustomize-controller/envs/env.env");
    const spec = file.object["spec"] as { content: string };
    const broken = { ...file, object: { ...file.object, spec: { ...spec, content: spec.content.replace(/^sops_mac=.*\n/m, "sops_mac_gone=1\n") } } };
    const rules = checkSopsFile({ ...broken, sopsFile: "dotenv" }, "dev", new Map([["dev", [fluxAge]]])).map((f) => f.rule);
    assert.ok(rules.includes("sops.metadata"), rules.join(", "));
  });
});
