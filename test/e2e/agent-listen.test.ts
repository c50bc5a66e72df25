import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { get } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { agentConfigSchema } from "../../src/agent/config.ts";
import { agentLogger } from "../../src/agent/logger.ts";
import { runAgent } from "../../src/agent/run.ts";
import { makeRepo, type TestRepo } from "../support/repo.ts";

/** Log lines the agent wrote, parsed. */
function capture(): { logger: ReturnType<typeof agentLogger>; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString("utf8").split("\n")) if (l.trim() !== "") lines.push(JSON.parse(l) as { level: number; msg: string });
      done();
    },
  });
  return { logger: agentLogger({ level: "info", pretty: false, destination }), lines };
}

describe("agent: where it listens", () => {
  let work: string;
  let repo: TestRepo;
  before(() => {
    work = mkdtempSync(join(tmpdir(), "gitward-agent-listen-"));
    mkdirSync(join(work, "dev"));
    repo = makeRepo();
    repo.commit({
      "gitward.yaml": `version: 1\nenvironments:\n  dev:\n    targets: { web: { provider: host, root: ${join(work, "dev")} } }\nstacks:\n  site: { target: web, path: site }\n`,
      "site/index.yaml": "apiVersion: host.gitward.dev/v1alpha1\nkind: File\nmetadata: { name: index }\nspec: { path: index.html, content: \"hi\\n\" }\n",
    }, "v1");
    delete process.env["GITWARD_API_TOKEN"];
  });
  after(() => {
    repo.remove();
    rmSync(work, { recursive: true, force: true });
  });

  const start = (listen: string, extra: object, logger: ReturnType<typeof agentLogger>): ReturnType<typeof runAgent> => runAgent({
    config: agentConfigSchema.parse({ cacheDir: join(work, "cache"), intervals: { poll: 3600, drift: 3600 }, ...extra }),
    repo: repo.dir, state: `sqlite:${join(work, `state-${Date.now()}.db`)}`, listen, logger,
  });

  it("beyond loopback without TLS or an API token: a warning for each, saying what to do", async () => {
    const { logger, lines } = capture();
    const running = await start("0.0.0.0:0", {}, logger);
    await running.stop();
    const warnings = lines.filter((l) => l.level === 40).map((l) => l.msg);
    assert.ok(warnings.some((w) => /listening on 0\.0\.0\.0 without TLS.*http\.tls/.test(w)), JSON.stringify(warnings));
    assert.ok(warnings.some((w) => /listening on 0\.0\.0\.0 without an API token.*api\.token/.test(w)), JSON.stringify(warnings));
  });

  it("on loopback: no warning", async () => {
    const { logger, lines } = capture();
    const running = await start("127.0.0.1:0", {}, logger);
    await running.stop();
    assert.deepEqual(lines.filter((l) => l.level >= 40 && /listening on/.test(l.msg)), []);
  });

  it("with http.tls and a token, beyond loopback: HTTPS and no warning", async () => {
    const cert = join(work, "cert.pem");
    const key = join(work, "key.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
      "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert], { stdio: "ignore" });
    const tokenFile = join(work, "token");
    writeFileSync(tokenFile, "tls-test-token\n");
    const { logger, lines } = capture();
    const running = await start("0.0.0.0:0", { http: { tls: { cert, key } }, api: { token: { file: tokenFile } } }, logger);
    try {
      assert.match(running.url, /^https:\/\//);
      assert.deepEqual(lines.filter((l) => l.level >= 40 && /listening on/.test(l.msg)), []);
      const port = new URL(running.url).port;
      const body = await new Promise<string>((resolve, reject) => {
        get({ host: "127.0.0.1", port, path: "/healthz", ca: readFileSync(cert) }, (res) => {
          let text = "";
          res.on("data", (c: Buffer) => (text += c.toString()));
          res.on("end", () => resolve(text));
        }).on("error", reject);
      });
      assert.deepEqual(JSON.parse(body), { ok: true });
    } finally {
      await running.stop();
    }
  });
});
