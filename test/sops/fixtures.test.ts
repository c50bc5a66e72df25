import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { execFileSync } from "node:child_process";
import { parse } from "yaml";
import { loadKeyring } from "../../src/sops/keyring.ts";
import { decryptFile } from "../../src/sops/decrypt.ts";
import { sopsFormatOf } from "../../src/sops/format.ts";
import { SopsError, type SopsFormat, type SopsKeyring } from "../../src/sops/types.ts";

const root = join(import.meta.dirname, "../fixtures/sops");
const sops = join(root, "getsops-sops");
const flux = join(root, "fluxcd-kustomize-controller");
const ageFiles = [join(sops, "keys/age-keys.txt"), join(flux, "keys/age.txt"), join(flux, "keys/age-global.txt"), join(flux, "keys/age-pq.txt")];
const pgpFiles = [join(sops, "keys/sops_functional_tests_key.asc"), join(flux, "keys/pgp.asc")];
// The README's "from repo" files: sops' own output, byte for byte.
const byteIdentical = new Set(["getsops-sops/functional-tests/format.enc.yaml", "getsops-sops/functional-tests/format.enc.json",
  "getsops-sops/functional-tests/format.enc.env", "getsops-sops/functional-tests/format.enc.ini", "getsops-sops/functional-tests/format-2.enc.ini",
  "fluxcd-kustomize-controller/legacy/day.txt.encrypted"]);
const nested = new Set(["fluxcd-kustomize-controller/inside/secret.yaml", "fluxcd-kustomize-controller/legacy/secret.day.yaml"]);

function encryptedFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "expected" || name === "keys" ? [] : encryptedFiles(path);
    return name === "README.md" ? [] : [relative(root, path)];
  });
}

function expectedOf(file: string): Buffer {
  return readFileSync(join(root, file.replace(/^([^/]+)\//, "$1/expected/")));
}

/** The plaintext as data: YAML/JSON parsed, INI and dotenv lines without layout. */
function semantic(text: string, format: SopsFormat): unknown {
  if (format === "yaml" || format === "json") return parse(text) as unknown;
  return text.split("\n").map((l) => l.trim().replace(/\s*=\s*/, "=")).filter((l) => l !== "");
}

async function assertDecrypts(file: string, keyring: SopsKeyring): Promise<void> {
  const content = readFileSync(join(root, file));
  const format = sopsFormatOf(file, content);
  assert.ok(format !== undefined, `${file} is recognised as a sops file`);
  const out = await decryptFile(content, format, keyring);
  const expected = expectedOf(file);
  assert.match(out.mac, /^[0-9A-F]{128}$/);
  if (byteIdentical.has(file) || format === "binary") assert.deepEqual(out.plaintext.toString("utf8"), expected.toString("utf8"), file);
  else assert.deepEqual(semantic(out.plaintext.toString("utf8"), format), semantic(expected.toString("utf8"), format), file);
}

const files = [...encryptedFiles(sops), ...encryptedFiles(flux)].sort();

describe("sops fixtures, keys from files (age-encryption, openpgp)", () => {
  let keyring: SopsKeyring;
  before(async () => { keyring = await loadKeyring({ ageKeyFiles: ageFiles, ageKeys: [], pgpKeyFiles: pgpFiles, gpg: false }); });

  it("finds every encrypted file of the README", () => assert.equal(files.length, 34));

  for (const file of files.filter((f) => !nested.has(f) && !f.endsWith("no_mac.yaml"))) {
    it(`decrypts ${file} and verifies its MAC`, () => assertDecrypts(file, keyring));
  }

  for (const file of nested) {
    it(`decrypts the sops document inside the plain Secret ${file}`, async () => {
      const content = readFileSync(join(root, file));
      assert.equal(sopsFormatOf(file, content), undefined, "the Secret itself is not a sops file");
      const secret = parse(content.toString("utf8")) as { data: Record<string, string> };
      const [key, value] = Object.entries(secret.data)[0] ?? ["", ""];
      const inner = Buffer.from(value, "base64");
      const format = sopsFormatOf(`${key}`, inner);
      assert.equal(format, "binary");
      const out = await decryptFile(inner, "binary", keyring);
      const expected = parse(expectedOf(file).toString("utf8")) as { data: Record<string, string> };
      assert.equal(out.plaintext.toString("base64"), expected.data[key]);
    });
  }

  it("refuses no_mac.yaml with no-mac", async () => {
    const file = "getsops-sops/functional-tests/no_mac.yaml";
    await assert.rejects(decryptFile(readFileSync(join(root, file)), "yaml", keyring), (e: unknown) => e instanceof SopsError && e.kind === "no-mac");
  });
});

describe("sops fixtures, PGP through a GnuPG home", () => {
  let home: string;
  let keyring: SopsKeyring;
  before(async () => {
    home = mkdtempSync(join(tmpdir(), "gitward-gpg-"));
    for (const key of pgpFiles) execFileSync("gpg", ["--batch", "--quiet", "--import", key], { env: { ...process.env, GNUPGHOME: home }, stdio: "ignore" });
    keyring = await loadKeyring({ ageKeyFiles: [], ageKeys: [], pgpKeyFiles: [], gpg: { home } });
  });
  after(() => {
    execFileSync("gpgconf", ["--kill", "all"], { env: { ...process.env, GNUPGHOME: home }, stdio: "ignore" });
    rmSync(home, { recursive: true, force: true });
  });
  for (const file of ["getsops-sops/example.yaml", "getsops-sops/example.ini", "getsops-sops/functional-tests/format.enc.env", "fluxcd-kustomize-controller/algorithms/pgp.yaml", "fluxcd-kustomize-controller/legacy/day.txt.encrypted"]) {
    it(`decrypts ${file} with gpg`, () => assertDecrypts(file, keyring));
  }
});
