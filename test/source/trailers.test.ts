import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { rollbackOf, rollbackTrailer, type RollbackScope } from "../../src/source/rollback-trailer.ts";
import { parseTrailers, type Trailer } from "../../src/source/trailers.ts";
import { gitTestEnv } from "../support/repo.ts";

/** The trailers git itself finds, as `key: value` lines. */
function gitTrailers(message: string): string[] {
  const out = execFileSync("git", ["interpret-trailers", "--parse", "--no-divider"], { input: message, encoding: "utf8", env: { ...process.env, ...gitTestEnv } });
  return out.split("\n").filter((l) => l !== "");
}

const t = (key: string, value: string): Trailer => ({ key, value });

const trailerCases: ReadonlyArray<readonly [string, string, readonly Trailer[]]> = [
  ["a trailer in the last paragraph", "Subject\n\nBody.\n\nKey: value\n", [t("Key", "value")]],
  ["the rollback trailer beside Signed-off-by", "Rollback dev: revert 1234567 (x)\n\nReason: x\n\nGitward-Rollback: env=dev stack=*\nSigned-off-by: A <a@example.com>\n", [t("Gitward-Rollback", "env=dev stack=*"), t("Signed-off-by", "A <a@example.com>")]],
  ["a title only: the first paragraph is never trailers", "Gitward-Rollback: env=dev stack=*\n", []],
  ["a title of two lines", "Subject\nKey: value\n", []],
  ["trailers not in the last paragraph", "Subject\n\nKey: value\n\nClosing words.\n", []],
  ["a paragraph with other lines and no git trailer", "Subject\n\nKey: value\nnot a trailer\n", []],
  ["a quarter of trailers and Signed-off-by", "Subject\n\nsome words\nKey: value\nSigned-off-by: A <a@example.com>\n", [t("Key", "value"), t("Signed-off-by", "A <a@example.com>")]],
  ["too few trailers beside Signed-off-by", "Subject\n\nw1\nw2\nw3\nw4\nSigned-off-by: A\n", []],
  ["a folded value", "Subject\n\nKey: first\n  second line\nOther: x\n", [t("Key", "first second line"), t("Other", "x")]],
  ["whitespace before the colon", "Subject\n\nKey : value\n", [t("Key", "value")]],
  ["a key git does not allow", "Subject\n\nKey_x: value\n", []],
  ["no trailing newline, blank lines after", "Subject\n\nKey: value\n\n\n", [t("Key", "value")]],
  ["CRLF line ends", "Subject\r\n\r\nKey: value\r\n", [t("Key", "value")]],
  ["a comment line in the block", "Subject\n\nKey: value\n# a comment\nOther: y\n", [t("Key", "value"), t("Other", "y")]],
  ["a cherry-pick line among other words", "Subject\n\nsome words\n(cherry picked from commit 0123456)\n", []],
  ["an empty message", "", []],
];

describe("commit trailers", () => {
  for (const [name, message, expected] of trailerCases) {
    it(`${name}: as git finds them`, () => {
      const found = parseTrailers(message);
      assert.deepEqual(found, expected);
      assert.deepEqual(found.map((x) => `${x.key}: ${x.value}`), gitTrailers(message), "git interpret-trailers agrees");
    });
  }
});

const msg = (...trailers: string[]): string => `Rollback prod/web: revert 1234567 (web 2)\n\nReason: broke it\n\n${trailers.join("\n")}\n`;

const rollbackCases: ReadonlyArray<readonly [string, string, RollbackScope | undefined]> = [
  ["a stack", msg("Gitward-Rollback: env=prod stack=web"), { environment: "prod", stack: "web" }],
  ["the whole environment", msg("Gitward-Rollback: env=dev stack=*"), { environment: "dev" }],
  ["no stack word", msg("Gitward-Rollback: env=dev"), { environment: "dev" }],
  ["words in another order, the key in another case", msg("gitward-rollback: stack=web  env=prod"), { environment: "prod", stack: "web" }],
  ["other trailers around it", msg("Reviewed-by: B <b@example.com>", "Gitward-Rollback: env=prod stack=web", "Signed-off-by: A <a@example.com>"), { environment: "prod", stack: "web" }],
  ["an unknown word, for later", msg("Gitward-Rollback: env=prod stack=web steps=2"), { environment: "prod", stack: "web" }],
  ["the last of two", msg("Gitward-Rollback: env=dev stack=*", "Gitward-Rollback: env=prod stack=web"), { environment: "prod", stack: "web" }],
  ["a subject that looks like a rollback, and no trailer", "Rollback prod/web: revert 1234567 (web 2)\n\nBody.\n", undefined],
  ["the trailer not in the last paragraph", "Subject\n\nGitward-Rollback: env=prod stack=web\n\nA closing paragraph.\n", undefined],
  ["the trailer in the subject", "Gitward-Rollback: env=prod stack=web\n", undefined],
  ["no environment", msg("Gitward-Rollback: stack=web"), undefined],
  ["an environment gitward.yaml would refuse", msg("Gitward-Rollback: env=Prod stack=web"), undefined],
  ["a stack gitward.yaml would refuse", msg("Gitward-Rollback: env=prod stack=../web"), undefined],
  ["a word given twice", msg("Gitward-Rollback: env=prod env=dev"), undefined],
  ["a word that is not key=value", msg("Gitward-Rollback: prod web"), undefined],
  ["an empty value", msg("Gitward-Rollback:"), undefined],
];

describe("rollbackOf", () => {
  for (const [name, message, expected] of rollbackCases) {
    it(name, () => {
      assert.deepEqual(rollbackOf({ message }), expected);
    });
  }

  it("reads what rollbackTrailer writes", () => {
    for (const scope of [{ environment: "prod", stack: "web" }, { environment: "dev" }]) {
      assert.deepEqual(rollbackOf({ message: msg(rollbackTrailer(scope)) }), scope);
    }
    assert.equal(rollbackTrailer({ environment: "dev", stack: undefined }), "Gitward-Rollback: env=dev stack=*");
  });
});
