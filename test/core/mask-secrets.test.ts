import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isCredentialName } from "../../src/core/credential-patterns.ts";
import { maskedChangedValue, maskedValue, maskSecrets } from "../../src/core/mask-secrets.ts";
import type { KObject } from "../../src/core/object.ts";
import { diffObjects as planDiff } from "../../src/plan/object-diff.ts";
import { cleanForDiff, diffObjects as kubeDiff } from "../../src/providers/kubernetes/object-diff.ts";

const githubToken = `ghp_${"a1B2".repeat(9)}`;
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration";

const secret = (data: Record<string, string>, field = "data"): KObject => ({ apiVersion: "v1", kind: "Secret", metadata: { name: "creds" }, [field]: data });
const configMap = (data: Record<string, string>, annotations?: Record<string, string>): KObject => ({
  apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", ...(annotations === undefined ? {} : { annotations }) }, data,
});

describe("maskSecrets", () => {
  const cases: { name: string; obj: KObject; before?: KObject; secretValues?: string[]; path: (string | number)[]; want: unknown }[] = [
    { name: "a Secret's data", obj: secret({ user: "YWRtaW4=" }), path: ["data", "user"], want: maskedValue },
    { name: "a Secret's stringData", obj: secret({ user: "admin" }, "stringData"), path: ["stringData", "user"], want: maskedValue },
    { name: "a Secret's empty value", obj: secret({ user: "" }), path: ["data", "user"], want: maskedValue },
    { name: "a Secret's last-applied annotation", obj: { ...secret({ a: "b" }), metadata: { name: "creds", annotations: { [lastApplied]: '{"data":{"a":"b"}}' } } }, path: ["metadata", "annotations", lastApplied], want: maskedValue },
    { name: "a token in any field", obj: configMap({ note: `use ${githubToken}` }), path: ["data", "note"], want: maskedValue },
    { name: "a ConfigMap key named password", obj: configMap({ password: "hunter2" }), path: ["data", "password"], want: maskedValue },
    { name: "a ConfigMap key named DB_PASSWORD", obj: configMap({ DB_PASSWORD: "hunter2" }), path: ["data", "DB_PASSWORD"], want: maskedValue },
    { name: "a ConfigMap key named apiToken", obj: configMap({ apiToken: "abc" }), path: ["data", "apiToken"], want: maskedValue },
    { name: "strings in an array under a credential name", obj: { kind: "X", spec: { tokens: ["a", "b"], passwords: ["c"] } }, path: ["spec", "passwords", 0], want: maskedValue },
    { name: "an empty credential field stays empty", obj: configMap({ password: "" }), path: ["data", "password"], want: "" },
    { name: "a field that names a secret is shown", obj: { kind: "Pod", spec: { volumes: [{ name: "v", secret: { secretName: "creds" } }] } }, path: ["spec", "volumes", 0, "secret", "secretName"], want: "creds" },
    { name: "a non-string credential field is shown", obj: { kind: "Pod", spec: { automountServiceAccountToken: false } }, path: ["spec", "automountServiceAccountToken"], want: false },
    { name: "an ordinary value is shown", obj: configMap({ level: "debug" }), path: ["data", "level"], want: "debug" },
    { name: "a Secret-looking kind of another group is not a Secret", obj: { apiVersion: "example.com/v1", kind: "Secret", data: { user: "admin" } }, path: ["data", "user"], want: "admin" },
    { name: "a ConfigMap's last-applied annotation holding a password", obj: configMap({ level: "debug" }, { [lastApplied]: '{"data":{"password":"hunter2"}}' }), path: ["metadata", "annotations", lastApplied], want: maskedValue },
    { name: "a ConfigMap's harmless last-applied annotation", obj: configMap({ level: "debug" }, { [lastApplied]: '{"data":{"level":"debug"}}' }), path: ["metadata", "annotations", lastApplied], want: '{"data":{"level":"debug"}}' },
    { name: "a changed Secret value", obj: secret({ user: "bmV3" }), before: secret({ user: "b2xk" }), path: ["data", "user"], want: maskedChangedValue },
    { name: "an unchanged Secret value", obj: secret({ user: "b2xk" }), before: secret({ user: "b2xk" }), path: ["data", "user"], want: maskedValue },
    { name: "a new Secret key", obj: secret({ user: "b2xk" }), before: secret({}), path: ["data", "user"], want: maskedValue },
    { name: "a changed credential field", obj: configMap({ password: "new" }), before: configMap({ password: "old" }), path: ["data", "password"], want: maskedChangedValue },
    { name: "an unchanged credential field", obj: configMap({ password: "same" }), before: configMap({ password: "same" }), path: ["data", "password"], want: maskedValue },
    { name: "a changed token", obj: configMap({ note: githubToken }), before: configMap({ note: `${githubToken}x` }), path: ["data", "note"], want: maskedChangedValue },
    { name: "a runner's secret value, whole", obj: configMap({ url: "s3cr3t-value" }), secretValues: ["s3cr3t-value"], path: ["data", "url"], want: maskedValue },
    { name: "a runner's secret value, inside a string", obj: configMap({ url: "https://x.example/?key=s3cr3t-value" }), secretValues: ["s3cr3t-value"], path: ["data", "url"], want: maskedValue },
    { name: "a runner's secret value, changed", obj: configMap({ url: "a-s3cr3t-value" }), before: configMap({ url: "b-s3cr3t-value" }), secretValues: ["s3cr3t-value"], path: ["data", "url"], want: maskedChangedValue },
    { name: "an empty runner's secret value masks nothing", obj: configMap({ url: "plain" }), secretValues: [""], path: ["data", "url"], want: "plain" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const masked = maskSecrets(c.obj, { before: c.before, secretValues: c.secretValues === undefined ? undefined : new Set(c.secretValues) });
      assert.deepEqual(at(masked, c.path), c.want);
    });
  }

  it("leaves the object it masks as it was", () => {
    const obj = configMap({ password: "hunter2" });
    maskSecrets(obj);
    assert.deepEqual(obj, configMap({ password: "hunter2" }));
  });
});

describe("isCredentialName", () => {
  const cases = [
    { name: "password", want: true }, { name: "DB_PASSWORD", want: true }, { name: "db-passwd", want: true },
    { name: "apiToken", want: true }, { name: "api_key", want: true }, { name: "APIKey", want: true }, { name: "apiKey", want: true },
    { name: "AWS_SECRET_ACCESS_KEY", want: true }, { name: "clientSecret", want: true }, { name: "ssh-privatekey", want: true },
    { name: "secretName", want: false }, { name: "tokenTTL", want: false }, { name: "passwordFile", want: false },
    { name: "key", want: false }, { name: "tls.key", want: false }, { name: "secretKeyRef", want: false }, { name: "", want: false },
  ];
  for (const c of cases) it(`${c.name || "(empty)"}: ${String(c.want)}`, () => assert.equal(isCredentialName(c.name), c.want));
});

// Both diff paths show the same masked text: the plan between revisions, and gitward diff against live.
describe("masked diffs", () => {
  const live = (data: Record<string, string>): KObject => ({
    ...configMap(data),
    metadata: { name: "settings", uid: "u-1", resourceVersion: "7", managedFields: [{ manager: "gitward" }] },
    status: {},
  });
  const paths = [
    { name: "plan", diff: (before: KObject, after: KObject) => planDiff(before, after) },
    { name: "kubernetes diff", diff: (before: KObject, after: KObject) => kubeDiff(before, after) },
  ];
  const cases = [
    {
      name: "a ConfigMap password that changed shows as changed",
      before: live({ password: "old-hunter2", level: "debug" }), after: configMap({ password: "new-hunter2", level: "debug" }),
      lines: ['-  password: "***"', '+  password: "*** (changed)"'], hidden: ["old-hunter2", "new-hunter2"],
    },
    {
      name: "a ConfigMap token next to a change elsewhere stays masked",
      before: live({ token: "tok-1234", level: "debug" }), after: configMap({ token: "tok-1234", level: "warn" }),
      lines: ['   token: "***"', "-  level: debug", "+  level: warn"], hidden: ["tok-1234"],
    },
    {
      name: "a Secret's data",
      before: { ...live({}), kind: "Secret", data: { user: "YWRtaW4=", pass: "b2xk" } }, after: secret({ user: "YWRtaW4=", pass: "bmV3" }),
      lines: ['   user: "***"', '-  pass: "***"', '+  pass: "*** (changed)"'], hidden: ["YWRtaW4=", "b2xk", "bmV3"],
    },
  ];
  for (const p of paths) {
    for (const c of cases) {
      it(`${p.name}: ${c.name}`, () => {
        const before = p.name === "plan" ? cleanForDiff(c.before) : c.before;
        const text = p.diff(before, c.after);
        for (const line of c.lines) assert.ok(text.split("\n").includes(line), `${line} missing from\n${text}`);
        for (const value of c.hidden) assert.ok(!text.includes(value), `${value} leaked into\n${text}`);
      });
    }
  }

  it("kubernetes diff: a new ConfigMap's credential field is masked", () => {
    const text = kubeDiff(undefined, configMap({ password: "hunter2" }));
    assert.ok(text.split("\n").includes('+  password: "***"'), text);
    assert.ok(!text.includes("hunter2"));
  });
});

function at(value: unknown, path: readonly (string | number)[]): unknown {
  let cur = value;
  for (const key of path) cur = (cur as Record<string | number, unknown> | undefined)?.[key];
  return cur;
}
