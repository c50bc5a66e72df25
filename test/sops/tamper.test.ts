import { describe, it, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { generateIdentity } from "age-encryption";
import { parse } from "yaml";
import { loadKeyring } from "../../src/sops/keyring.ts";
import { decryptTree, decryptValues } from "../../src/sops/decrypt.ts";
import { SopsError, type SopsErrorKind, type SopsKeyring } from "../../src/sops/types.ts";
import type { JsonValue } from "../../src/core/object.ts";

type Doc = { [key: string]: JsonValue };
const flux = join(import.meta.dirname, "../fixtures/sops/fluxcd-kustomize-controller");
const load = (path: string): Doc => parse(readFileSync(join(flux, path), "utf8")) as Doc;
const isKind = (kind: SopsErrorKind) => (e: unknown): boolean => e instanceof SopsError && e.kind === kind;

describe("decryptTree refuses changed documents", () => {
  let keyring: SopsKeyring;
  before(async () => { keyring = await loadKeyring({ ageKeyFiles: [join(flux, "keys/age.txt")], ageKeys: [], pgpKeyFiles: [], gpg: false }); });

  it("decrypts the untouched Secret", async () => {
    const out = await decryptTree(load("algorithms/age.yaml"), keyring);
    assert.deepEqual(out.tree["stringData"], { key: "value" });
    assert.equal(out.tree["sops"], undefined);
    assert.deepEqual(out.secrets, ["value"]);
  });

  it("a changed character of an ENC data is tampered", async () => {
    const doc = load("algorithms/age.yaml");
    const data = doc["stringData"] as Doc;
    const enc = data["key"] as string;
    const at = enc.indexOf("data:") + 5;
    data["key"] = enc.slice(0, at) + (enc[at] === "A" ? "B" : "A") + enc.slice(at + 1);
    await assert.rejects(decryptTree(doc, keyring), isKind("tampered"));
  });

  it("a changed value left in clear is tampered (MAC)", async () => {
    const doc = load("algorithms/age.yaml");
    (doc["metadata"] as Doc)["name"] = "other";
    await assert.rejects(decryptTree(doc, keyring), isKind("tampered"));
  });

  it("a changed MAC is tampered", async () => {
    const doc = load("algorithms/age.yaml");
    const meta = doc["sops"] as Doc;
    const mac = meta["mac"] as string;
    meta["mac"] = mac.replace(/data:(.)/, (_m, c: string) => `data:${c === "A" ? "B" : "A"}`);
    await assert.rejects(decryptTree(doc, keyring), isKind("tampered"));
  });

  it("without the file's key: no-key naming the recipients", async () => {
    const empty = await loadKeyring({ ageKeyFiles: [], ageKeys: [], pgpKeyFiles: [], gpg: false });
    await assert.rejects(decryptTree(load("algorithms/age.yaml"), empty), (e: unknown) =>
      isKind("no-key")(e) && (e as SopsError).message.includes("age age1l44xcng8dqj32nlv6d930qvvrny05hglzcv9qpc7kxjc6902ma4qufys29")
      && (e as SopsError).recipients.length === 1);
  });

  it("with a wrong key: no-key", async () => {
    const wrong = await loadKeyring({ ageKeyFiles: [], ageKeys: [await generateIdentity()], pgpKeyFiles: [], gpg: false });
    await assert.rejects(decryptTree(load("algorithms/pgp.yaml"), wrong), (e: unknown) => isKind("no-key")(e) && (e as SopsError).message.includes("pgp 35C1A64CD7FC0AB6EB66756B2445463C3234ECE1"));
  });

  it("a missing key file is an error naming its path", async () => {
    await assert.rejects(loadKeyring({ ageKeyFiles: ["/nonexistent/keys.txt"], ageKeys: [], pgpKeyFiles: [], gpg: false }), /\/nonexistent\/keys\.txt: ENOENT/);
  });
});

describe("decryptValues after kustomize changed the object", () => {
  let keyring: SopsKeyring;
  before(async () => { keyring = await loadKeyring({ ageKeyFiles: [join(flux, "keys/age.txt")], ageKeys: [], pgpKeyFiles: [], gpg: false }); });

  it("a Secret given a namespace and a label", async () => {
    const doc = load("algorithms/age.yaml");
    const { dataKey } = await decryptTree(doc, keyring);
    const changed = { ...doc, metadata: { ...(doc["metadata"] as Doc), namespace: "apps", labels: { team: "a" } } };
    const out = decryptValues(changed, [dataKey], doc["sops"] as Doc);
    assert.deepEqual(out.tree["stringData"], { key: "value" });
    assert.deepEqual(out.tree["metadata"], { name: "age", namespace: "apps", labels: { team: "a" } });
    assert.equal(out.tree["sops"], undefined);
  });

  it("the data of two merged patches, each with its own data key; a value no key opens is tampered", async () => {
    const one = load("patches/merge1.yaml");
    const two = load("patches/merge2.yaml");
    const keys = [(await decryptTree(one, keyring)).dataKey, (await decryptTree(two, keyring)).dataKey];
    const expected1 = (parse(readFileSync(join(flux, "expected/patches/merge1.yaml"), "utf8")) as Doc)["stringData"] ?? (parse(readFileSync(join(flux, "expected/patches/merge1.yaml"), "utf8")) as Doc)["data"];
    const field = "stringData" in one ? "stringData" : "data";
    const merged = { ...one, [field]: { ...(one[field] as Doc), ...(two[field] as Doc) } };
    const out = decryptValues(merged, keys);
    const expected2 = (parse(readFileSync(join(flux, "expected/patches/merge2.yaml"), "utf8")) as Doc)[field];
    assert.deepEqual(out.tree[field], { ...(expected1 as Doc), ...(expected2 as Doc) });
    assert.throws(() => decryptValues(merged, keys.slice(0, 1)), isKind("tampered"));
  });
});
