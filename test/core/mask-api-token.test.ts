import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { credentialPatternOf, looksLikeCredential } from "../../src/core/credential-patterns.ts";
import { maskedValue, maskSecrets, maskSecretsInText } from "../../src/core/mask-secrets.ts";
import { redact } from "../../src/store/redact.ts";
import { generateApiToken } from "../../src/store/tokens.ts";

describe("gitward API tokens are credentials", () => {
  const token = generateApiToken();

  it("are recognised by their form, wherever they sit", () => {
    assert.equal(credentialPatternOf(token)?.name, "a gitward API token");
    assert.ok(looksLikeCredential(`Authorization: Bearer ${token}`));
  });

  it("are not confused with shorter or longer gw_ words", () => {
    assert.ok(!looksLikeCredential("gw_short_identifier_in_code"));
    assert.ok(!looksLikeCredential(`gw_${"a".repeat(42)}`));
    assert.ok(!looksLikeCredential(`gw_${"a".repeat(44)}`));
  });

  it("are masked in an object's values", () => {
    const out = maskSecrets({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" }, data: { note: `curl -H "Bearer ${token}"` } });
    assert.deepEqual(out["data"], { note: maskedValue });
  });

  it("are masked in text, the rest of the line kept", () => {
    assert.equal(maskSecretsInText(`export GITWARD_TOKEN_VALUE=x ${token} end`), `export GITWARD_TOKEN_VALUE=x ${maskedValue} end`);
  });

  it("are redacted from what the store records", () => {
    const text = redact(`printenv said ${token}`);
    assert.ok(!text.includes(token), text);
  });
});
