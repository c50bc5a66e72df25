import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { minSecretValueLength, redact, redactArgs, redactJson, redactValues, redactValuesDeep, secretValues } from "../../src/store/redact.ts";
import { withSecretValues } from "../../src/store/secret-values.ts";

const ghToken = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8";
const ghPat = "github_pat_" + "11ABCDEFG0abcdefghijkl_mnopqrstuvwxyz0123456789";
const glToken = "glpat-" + "xY9zAbCdEfGhIjKlMnOp";
const awsKey = "AKIA" + "IOSFODNN7EXAMPLE";
const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2EifQ.c2lnbmF0dXJlLXBhcnQtaGVyZQ";
const pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\nabcdef==\n-----END RSA PRIVATE KEY-----";

describe("redact", () => {
  const cases: { name: string; input: string; expected: string }[] = [
    { name: "password=", input: "login password=hunter2 ok", expected: "login password=*** ok" },
    { name: "an env var", input: "DB_PASSWORD=hunter2\nUSER=app", expected: "DB_PASSWORD=***\nUSER=app" },
    { name: "token: with spaces", input: "token:   abc123def", expected: "token:   ***" },
    { name: "a quoted value with spaces", input: `secret = "a b c" rest`, expected: `secret = "***" rest` },
    { name: "single quotes", input: `client_secret='x y'`, expected: `client_secret='***'` },
    { name: "a JSON field", input: `{"apiKey": "k-123", "name": "web"}`, expected: `{"apiKey": "***", "name": "web"}` },
    { name: "a query string", input: "GET /cb?access_token=abc&state=1", expected: "GET /cb?access_token=***&state=1" },
    { name: "a flag with =", input: "psql --password=hunter2 -h db", expected: "psql --password=*** -h db" },
    { name: "an Authorization header", input: "Authorization: Bearer abc.def.ghi", expected: "Authorization: Bearer ***" },
    { name: "basic auth", input: "authorization: Basic dXNlcjpwYXNz", expected: "authorization: Basic ***" },
    { name: "a bare bearer token", input: "sent Bearer abcdefgh12345 to api", expected: "sent Bearer *** to api" },
    { name: "userinfo in a URL", input: "clone https://bot:s3cret@git.example.com/r.git failed", expected: "clone https://bot:***@git.example.com/r.git failed" },
    { name: "a token as URL user", input: `https://${ghToken}@github.com/o/r`, expected: "https://***@github.com/o/r" },
    { name: "a postgres URL", input: "postgres://app:pw@db:5432/x", expected: "postgres://app:***@db:5432/x" },
    { name: "a GitHub token", input: `push with ${ghToken} now`, expected: "push with *** now" },
    { name: "a GitHub fine-grained token", input: `t=${ghPat}`, expected: "t=***" },
    { name: "a GitLab token", input: `header PRIVATE-TOKEN ${glToken}`, expected: "header PRIVATE-TOKEN ***" },
    { name: "an AWS key id", input: `key ${awsKey} used`, expected: "key *** used" },
    { name: "a JWT", input: `sa ${jwt}`, expected: "sa ***" },
    { name: "a PEM private key", input: `before\n${pem}\nafter`, expected: "before\n***\nafter" },
    { name: "a capped PEM private key", input: "x\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n[output capped]", expected: "x\n***" },
    { name: "a PGP private key block", input: "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQdGBF\n-----END PGP PRIVATE KEY BLOCK-----", expected: "***" },
  ];
  for (const c of cases) {
    it(`masks ${c.name}`, () => {
      assert.equal(redact(c.input), c.expected);
    });
  }

  const untouched = [
    "nginx: configuration file /etc/nginx/nginx.conf test is successful",
    "Deployment/web/api: apply failed (Invalid): spec.selector: required",
    "ssh://git@github.com/o/r.git",
    "secretName: db-creds-ref-is-a-name",
    "tokens: 5, passwords changed: none",
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
    "secret:\n  name: x",
  ];
  for (const text of untouched) {
    it(`leaves ${JSON.stringify(text.slice(0, 40))} alone`, () => {
      assert.equal(redact(text), text);
    });
  }

  it("is idempotent", () => {
    for (const c of cases) assert.equal(redact(redact(c.input)), c.expected, c.name);
  });
});

describe("redactArgs", () => {
  it("masks the value after a credential flag and credentials inside arguments", () => {
    assert.deepEqual(
      redactArgs(["tool", "--token", "abc", "--password", "p", "--client-secret", "s", "--token-file", "/run/t", "-H", "Authorization: Bearer abcdefghij", "ok"]),
      ["tool", "--token", "***", "--password", "***", "--client-secret", "***", "--token-file", "/run/t", "-H", "Authorization: Bearer ***", "ok"],
    );
  });
});

describe("redactJson", () => {
  it("masks values under credential keys and credentials in strings, deeply", () => {
    assert.deepEqual(
      redactJson({
        password: "x", accessToken: 12345, clientSecret: { nested: true }, tokenCount: 3, secretName: "db-creds", none: null,
        list: [{ apiKey: "k" }, `url https://u:p@h/x`], ok: "fine", n: 1, b: false,
      }),
      {
        password: "***", accessToken: "***", clientSecret: "***", tokenCount: 3, secretName: "db-creds", none: null,
        list: [{ apiKey: "***" }, "url https://u:***@h/x"], ok: "fine", n: 1, b: false,
      },
    );
  });
});

describe("redaction by value: the runner's own secrets", () => {
  // A random API token matches no pattern: only its value can find it.
  const apiToken = "q7Zr1vXk9pLm2NbW";
  const webhook = "wh-0c5e8f1a";

  it("masks each secret value wherever it appears, the longest first; values under 6 characters are not used", () => {
    assert.equal(minSecretValueLength, 6);
    const secrets = secretValues([apiToken, webhook, "abc12", undefined, "", apiToken, `${apiToken}-long`]);
    assert.deepEqual(secrets.values, [`${apiToken}-long`, apiToken, webhook]);
    assert.equal(redactValues(`GITWARD_API_TOKEN=${apiToken}\nhook ${webhook}; ${apiToken}-long; abc12`, secrets), "GITWARD_API_TOKEN=***\nhook ***; ***; abc12");
    assert.deepEqual(
      redactValuesDeep({ output: `token is ${apiToken}`, list: [webhook, 3, null], [apiToken]: true }, secrets),
      { output: "token is ***", list: ["***", 3, null], "***": true },
    );
    assert.equal(redactValues("nothing to hide", secretValues([])), "nothing to hide");
  });

  it("a store opened with the secret values never writes or answers them: a command's output, an error, audit details", async () => {
    const raw = await openSqliteStore(":memory:");
    const store = withSecretValues(raw, secretValues([apiToken, webhook]));
    try {
      const row = await store.beginSync({
        environment: "dev", stack: "web", trigger: { kind: "manual", by: "alice", detail: `via ${webhook}` },
        revision: { sha: "a".repeat(40), author: "mallory", message: `print ${apiToken}` },
      });
      const done = await store.finishSync(row.id, {
        outcome: "failed", summary: {}, objects: [], durationMs: 1, error: `check exited 1: ${apiToken}`,
        commands: [{ phase: "check", command: ["sh", "-c", "cat /etc/gitward/api-token"], exitCode: 1, output: `${apiToken}\n`, durationMs: 2 }],
      });
      await store.appendAudit({ kind: "sync", actor: "agent", details: { note: `saw ${apiToken}` } });
      for (const text of [JSON.stringify(done), JSON.stringify(await raw.listSyncs({})), JSON.stringify(await raw.listAudit({}))]) {
        assert.doesNotMatch(text, new RegExp(apiToken), text);
        assert.doesNotMatch(text, new RegExp(webhook), text);
      }
      assert.equal((await raw.getSync(row.id))?.commands?.[0]?.output, "***\n", "stored masked, not only served masked");
      assert.equal((await store.verifyAudit()).ok, true, "the audit chain hashes what was stored");
    } finally {
      await store.close();
    }
  });
});
