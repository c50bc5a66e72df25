import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { decryptFile, decryptTree } from "../../src/sops/decrypt.ts";
import { loadKeyring } from "../../src/sops/keyring.ts";
import { SopsError, type SopsKeyring } from "../../src/sops/types.ts";
import { encryptBinary, encryptDotenv, encryptYaml, makeAgeKey, tamper } from "./sops-encrypt.ts";

const keyringOf = (identity: string): Promise<SopsKeyring> => loadKeyring({ ageKeyFiles: [], ageKeys: [identity], pgpKeyFiles: [], gpg: false });

describe("the test SOPS encryptor, checked by gitward's decryption library", () => {
  it("writes a YAML Secret that decrypts and verifies, with only data/stringData encrypted", async () => {
    const key = await makeAgeKey();
    const text = await encryptYaml(
      { apiVersion: "v1", kind: "Secret", metadata: { name: "db", labels: { a: "b" } }, stringData: { password: "hunter2", port: 5432, on: true, list: ["x", "y"] } },
      { recipients: [key.recipient], encryptedRegex: "^(data|stringData)$" },
    );
    assert.doesNotMatch(text, /hunter2/);
    const doc = parse(text, { version: "1.2" }) as Record<string, never>;
    assert.deepEqual(doc["metadata"], { name: "db", labels: { a: "b" } }, "metadata stays in clear");
    const out = await decryptTree(doc, await keyringOf(key.identity));
    assert.deepEqual(out.tree["stringData"], { password: "hunter2", port: 5432, on: true, list: ["x", "y"] });
    assert.ok(out.secrets.includes("hunter2"));
  });

  it("writes several recipients, each able to open the file", async () => {
    const [a, b] = [await makeAgeKey(), await makeAgeKey()];
    const text = await encryptYaml({ token: "t0ken-value" }, { recipients: [a.recipient, b.recipient] });
    for (const k of [a, b]) {
      const out = await decryptTree(parse(text) as Record<string, never>, await keyringOf(k.identity));
      assert.equal(out.tree["token"], "t0ken-value");
    }
  });

  it("writes dotenv and binary files that decrypt to the chosen plaintext", async () => {
    const key = await makeAgeKey();
    const keyring = await keyringOf(key.identity);
    const env = await encryptDotenv({ USER: "admin", PASSWORD: "p4ss" }, { recipients: [key.recipient] });
    assert.equal((await decryptFile(Buffer.from(env), "dotenv", keyring)).plaintext.toString(), "USER=admin\nPASSWORD=p4ss\n");
    const pem = "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n";
    const bin = await encryptBinary(pem, { recipients: [key.recipient] });
    assert.equal((await decryptFile(Buffer.from(bin), "binary", keyring)).plaintext.toString(), pem);
  });

  it("tampers a value or the MAC so that decryption refuses the file", async () => {
    const key = await makeAgeKey();
    const keyring = await keyringOf(key.identity);
    const text = await encryptYaml({ a: "one-value", b: "two-value" }, { recipients: [key.recipient] });
    for (const which of ["value", "mac"] as const) {
      const bad = tamper(text, which);
      assert.notEqual(bad, text);
      await assert.rejects(decryptTree(parse(bad) as Record<string, never>, keyring), (e: unknown) => e instanceof SopsError && e.kind === "tampered");
    }
  });
});
