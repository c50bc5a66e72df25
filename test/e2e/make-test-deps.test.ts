import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { projectRoot } from "../support/cli.ts";

/** Runs make in gitward's checkout with the test tools looked for in `toolsDir` only; installing only when `install` says so. */
function make(target: string, toolsDir: string, install: { path: string } | undefined = undefined): Promise<{ code: number; output: string }> {
  const args = ["--no-print-directory", target, `TEST_TOOLS_PATH=${toolsDir}`, ...(install === undefined ? ["TEST_DEPS_INSTALL=no"] : [])];
  const env = install === undefined ? process.env : { ...process.env, PATH: install.path };
  return new Promise((resolve) => {
    execFile("make", args, { cwd: projectRoot, env, encoding: "utf8", timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, output: stdout + stderr });
    });
  });
}

/** A directory holding links to the named programs only, found where this machine has them. */
function toolsDir(names: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "gitward-tools-"));
  for (const name of names) {
    const from = ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin", ...postgresBins()].map((d) => join(d, name)).find((p) => existsSync(p));
    if (from !== undefined) symlinkSync(from, join(dir, name));
  }
  return dir;
}

/** Debian's PostgreSQL binary directories, newest last (initdb is not on PATH there). */
function postgresBins(): string[] {
  const root = "/usr/lib/postgresql";
  return existsSync(root) ? readdirSync(root).sort().map((v) => join(root, v, "bin")) : [];
}

describe("make test-deps", () => {
  const dirs: string[] = [];
  const tools = (...names: string[]): string => {
    const dir = toolsDir(names);
    dirs.push(dir);
    return dir;
  };
  after(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("names the missing packages and the command that installs them", async () => {
    const r = await make("test-deps", tools("git"));
    assert.notEqual(r.code, 0);
    assert.match(r.output, /^make test needs: gnupg openssh-client nginx chromium postgresql \(not installed\)$/m);
    assert.match(r.output, /^(run: (sudo )?apt-get install -y --no-install-recommends gnupg openssh-client nginx chromium postgresql|install them with the system's package manager, then run make test again)$/m);
  });

  it("names kubectl, with the command that downloads it, when neither it nor kustomize is there", async (t) => {
    const dir = tools("git", "gpg", "ssh-keygen", "nginx", "chromium", "initdb");
    if (!["git", "gpg", "ssh-keygen", "nginx", "chromium", "initdb"].every((n) => existsSync(join(dir, n)))) {
      t.skip("this machine lacks one of the other tools");
      return;
    }
    const r = await make("test-deps", dir);
    assert.notEqual(r.code, 0);
    assert.match(r.output, /^make test needs kubectl \(for kubectl kustomize\) or kustomize \(not installed\)$/m);
    assert.match(r.output, /^run: (sudo )?curl -fsSLo \/usr\/local\/bin\/kubectl https:\/\/dl\.k8s\.io\/release\/v[\d.]+\/bin\/linux\/(amd64|arm64)\/kubectl && (sudo )?chmod \+x \/usr\/local\/bin\/kubectl$/m);
  });

  it("installs what is missing with apt-get when run as root", async (t) => {
    if (process.getuid?.() !== 0) {
      t.skip("only root installs");
      return;
    }
    const dir = tools("git", "kubectl", "kustomize");
    const nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"].find((p) => existsSync(p));
    const initdb = postgresBins().map((d) => join(d, "initdb")).findLast((p) => existsSync(p));
    const kustomize = existsSync(join(dir, "kubectl")) || existsSync(join(dir, "kustomize"));
    if (nginx === undefined || initdb === undefined || !kustomize || !existsSync("/usr/bin/gpg") || !existsSync("/usr/bin/ssh-keygen") || !existsSync("/usr/bin/chromium")) {
      t.skip("this machine lacks the tools the fake apt-get links");
      return;
    }
    // A fake apt-get "installs" by linking the real tools where test-deps looks; a fake
    // systemctl keeps this machine's own nginx running.
    const fake = mkdtempSync(join(tmpdir(), "gitward-fake-apt-"));
    dirs.push(fake);
    const log = join(fake, "apt-get.log");
    writeFileSync(join(fake, "apt-get"), `#!/bin/sh\necho "$*" >> ${log}\nif [ "$1" = install ]; then ln -s /usr/bin/gpg ${dir}/gpg; ln -s /usr/bin/ssh-keygen ${dir}/ssh-keygen; ln -s ${nginx} ${dir}/nginx; ln -s /usr/bin/chromium ${dir}/chromium; ln -s ${initdb} ${dir}/initdb; fi\n`, { mode: 0o755 });
    writeFileSync(join(fake, "systemctl"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    const r = await make("test-deps", dir, { path: `${fake}:${process.env["PATH"] ?? ""}` });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /^installing what the tests need: gnupg openssh-client nginx chromium postgresql$/m);
    assert.equal(readFileSync(log, "utf8"), "update -qq\ninstall -y -qq --no-install-recommends gnupg openssh-client nginx chromium postgresql\n");
  });

  it("stops make test at once, before type checks, lint and the tests", async () => {
    const r = await make("test", tools("git"));
    assert.notEqual(r.code, 0);
    assert.match(r.output, /make test needs: /);
    assert.doesNotMatch(r.output, /tsc|eslint|npm /);
  });
});
