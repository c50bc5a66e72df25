/**
 * The web UI in a real browser (issue 14): headless Chromium (playwright-core, /usr/bin/chromium)
 * against a real agent (`runAgent`) on the quick start's demo repository (`makeDemo`: dev and
 * prod on host targets, dev self-healing, prod reporting drift). An admin logs in with a token,
 * sees the overview and a stack (diff, history, drift), watches drift and a sync appear live,
 * rolls back through Git; a viewer sees no Sync button and gets 403 from the API. Screenshots of
 * the main pages are saved to test-artifacts/ui/. Skipped only when Chromium is not installed.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { agentConfigSchema } from "../../src/agent/config.ts";
import { agentLogger } from "../../src/agent/logger.ts";
import { runAgent, type RunningAgent } from "../../src/agent/run.ts";
import { makeDemo } from "../../src/cli/commands/quickstart-demo.ts";
import { issueToken } from "../../src/store/token-issue.ts";
import { chromiumMissing, launchBrowser } from "../support/browser.ts";
import { projectRoot } from "../support/cli.ts";

const missing = chromiumMissing();
const artifacts = join(projectRoot, "test-artifacts", "ui");
const uiBuilt = join(projectRoot, "dist", "ui", "index.html");
const waitMs = 20_000;

/** Makes dist/ui when a plain test run has not built it (make test builds it first). */
function ensureUiBuilt(): void {
  if (existsSync(uiBuilt)) return;
  execFileSync(process.execPath, [join(projectRoot, "node_modules/vite/bin/vite.js"), "build", "--config", "ui/vite.config.ts", "--logLevel", "warn"], { cwd: projectRoot, stdio: "inherit" });
}

/** Git in the demo repository, as a named person (whatever identity the machine has). */
function git(repo: string, ...args: string[]): string {
  const who = { GIT_AUTHOR_NAME: "Dana Dev", GIT_AUTHOR_EMAIL: "dana@example.com", GIT_COMMITTER_NAME: "Dana Dev", GIT_COMMITTER_EMAIL: "dana@example.com" };
  return execFileSync("git", args, { cwd: repo, encoding: "utf8", env: { ...process.env, ...who } }).trim();
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = waitMs): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${String(ms)} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("web UI in Chromium against a quick start agent", { skip: missing }, () => {
  const dir = mkdtempSync(join(tmpdir(), "gitward-ui-e2e-"));
  const repo = join(dir, "repo");
  let running: RunningAgent;
  let browser: Browser;
  let adminToken: string;
  let viewerToken: string;
  let page: Page;

  /** The whole page; a dialog's backdrop covers only the window, so dialogs are shot as the window. */
  const shot = async (p: Page, name: string, fullPage = true): Promise<void> => {
    await p.screenshot({ path: join(artifacts, `${name}.png`), fullPage });
  };
  /** A marker that survives only as long as the page is not reloaded: proves an update came live. */
  const markPage = (p: Page): Promise<void> => p.evaluate(() => { (globalThis as { gitwardNoReload?: boolean }).gitwardNoReload = true; });
  const notReloaded = async (p: Page): Promise<void> => {
    assert.equal(await p.evaluate(() => (globalThis as { gitwardNoReload?: boolean }).gitwardNoReload === true), true, "the page was reloaded");
  };
  const api = (path: string, token: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${running.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...init.headers } });

  before(async () => {
    ensureUiBuilt();
    mkdirSync(artifacts, { recursive: true });
    makeDemo(dir);
    running = await runAgent({
      config: agentConfigSchema.parse({
        cacheDir: join(dir, ".cache"), concurrency: 2,
        intervals: { poll: 1, drift: 1, retryBase: 1, retryMax: 5, dependencyWait: 0.5 },
        gracePeriodSeconds: 5,
        targets: { web: { commands: { "site-has-index": ["test", "-s", "{staged}/site/index.html"] } } },
      }),
      repo, state: `sqlite:${join(dir, "state.db")}`, listen: "127.0.0.1:0", healthTimeoutSeconds: 30,
      logger: agentLogger({ level: process.env["GITWARD_TEST_LOG"] ?? "silent", pretty: false }),
    });
    await running.agent.idle();
    adminToken = (await issueToken(running.store, { name: "ui-admin", role: "admin", actor: "ui-test", via: "cli" })).token;
    viewerToken = (await issueToken(running.store, { name: "ui-viewer", role: "viewer", actor: "ui-test", via: "cli" })).token;
    browser = await launchBrowser();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  });

  after(async () => {
    await browser?.close();
    await running?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("logs in with a token and shows the overview of every environment and stack", async () => {
    await page.goto(`${running.url}/`);
    await page.getByTestId("login-page").waitFor();
    await shot(page, "login");
    await page.getByTestId("login-token").fill(adminToken);
    await page.getByTestId("login-submit").click();
    await page.getByTestId("overview-page").waitFor();
    for (const env of ["dev", "prod"]) {
      for (const stack of ["site", "app-config"]) {
        const cell = page.getByTestId(`cell-${env}-${stack}`);
        await cell.waitFor();
        assert.equal(await cell.getAttribute("data-sync"), "in-sync", `${env}/${stack}`);
      }
    }
    assert.match(await page.getByTestId("who").innerText(), /ui-admin/);
    // The token was exchanged for a cookie: the page keeps no copy of it.
    const stored = await page.evaluate(() => JSON.stringify({ ...globalThis.localStorage }) + JSON.stringify({ ...globalThis.sessionStorage }));
    assert.ok(!stored.includes(adminToken), "the token is not kept in web storage");
    await shot(page, "overview");
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByTestId("cell-prod-site").waitFor();
    await shot(page, "overview-narrow");
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it("opens a stack and shows its objects, live diff, history and drift", async () => {
    await page.getByTestId("cell-prod-site").click();
    await page.getByTestId("stack-page").waitFor();
    await page.getByTestId("object-row").first().waitFor();
    assert.equal(await page.getByTestId("object-row").count(), 2, "site has a directory and a file");
    // In sync: the live diff has nothing to do, and says so.
    await page.getByTestId("diff-viewer").getByText("No differences: the target matches Git for all 2 objects.").waitFor();
    assert.equal(await page.getByTestId("diff-entry").count(), 0);
    const history = page.getByTestId("history-entry");
    await history.first().waitFor();
    assert.equal(await history.first().getAttribute("data-outcome"), "succeeded");
    await page.getByTestId("drift").getByText("No drift found").waitFor();
    assert.match(await page.getByTestId("stack-drift").innerText(), /^none\b/);
    await shot(page, "stack");
    // The host target's check ran at the sync, and its command is in the history entry.
    const command = page.getByTestId("history-command").first();
    await command.locator("summary").click();
    assert.match(await command.innerText(), /check: test -s .*site\/index\.html exit 0/);
    await page.getByTestId("history").screenshot({ path: join(artifacts, "stack-history.png") });
  });

  it("shows drift live when a file of the host target is tampered with", async () => {
    // The UI polls nothing: what changes without a reload came over the event stream.
    await until("the event stream to be connected", async () => (/\blive\b/.test(await page.getByTestId("live-state").innerText()) ? true : undefined));
    await markPage(page);
    // prod does not self-heal: the drift stays and is reported.
    writeFileSync(join(dir, "targets/prod/site/index.html"), "tampered\n");
    await page.getByTestId("drift-entry").first().waitFor({ timeout: waitMs });
    assert.equal(await page.getByTestId("drift-entry").first().getAttribute("data-corrected"), "false");
    await until("the stack's drift count", async () => (/^1 object\b/.test(await page.getByTestId("stack-drift").innerText()) ? true : undefined));
    await notReloaded(page);
    await page.getByTestId("diff-refresh").click();
    const changed = page.locator('[data-testid="diff-entry"][data-action="update"]');
    await changed.waitFor({ timeout: waitMs });
    const diffText = await changed.getByTestId("diff-unified").innerText();
    assert.match(diffText, /tampered/);
    assert.match(diffText, /Hello from prod/);
    await shot(page, "stack-drift");
    await page.getByTestId("drift").screenshot({ path: join(artifacts, "stack-drift-details.png") });
    await page.getByTestId("diff-mode-split").click();
    const split = await changed.getByTestId("diff-split").innerText();
    assert.match(split, /tampered/);
    assert.match(split, /Hello from prod/);
    await page.getByTestId("diff-viewer").screenshot({ path: join(artifacts, "stack-diff-split.png") });
    await page.getByTestId("diff-mode-unified").click();
  });

  it("syncs from the Sync button and shows the new history entry live", async () => {
    const before = await page.getByTestId("history-entry").count();
    await page.getByTestId("sync-button").click();
    await page.getByTestId("sync-what").waitFor();
    await page.getByTestId("sync-reason").fill("ui test: undo the tampering");
    await shot(page, "sync-dialog", false);
    await page.getByTestId("sync-confirm").click();
    await page.getByTestId("sync-result").waitFor({ timeout: waitMs });
    await page.getByTestId("dialog-cancel").click();
    await until("a new succeeded history entry", async () => {
      const n = await page.getByTestId("history-entry").count();
      return n > before && await page.getByTestId("history-entry").first().getAttribute("data-outcome") === "succeeded" ? n : undefined;
    });
    await notReloaded(page);
    assert.match(await page.getByTestId("history-entry").first().innerText(), /manual by ui-admin/);
    assert.equal(readFileSync(join(dir, "targets/prod/site/index.html"), "utf8"), "<h1>Hello from prod</h1>\n");
  });

  it("rolls back a commit after confirming, and the revert commit is synced", async () => {
    const site = join(dir, "targets/dev/site/index.html");
    writeFileSync(join(repo, "gitward.yaml"), readFileSync(join(repo, "gitward.yaml"), "utf8").replace("Hello from dev", "Bonjour from dev"));
    git(repo, "commit", "-qam", "Greet in French");
    const french = git(repo, "rev-parse", "HEAD");
    await until("dev to sync the French greeting", () => (readFileSync(site, "utf8").includes("Bonjour") ? true : undefined));
    await page.goto(`${running.url}/#/stacks/dev/site`);
    await page.getByTestId("stack-page").waitFor();
    await until("the French commit in dev's history", async () => ((await page.getByTestId("history-entry").first().innerText()).includes("Greet in French") ? true : undefined));
    await markPage(page);
    await page.getByTestId("rollback-button").click();
    await page.getByTestId("rollback-what").waitFor();
    await page.getByTestId("rollback-commits").getByText("Greet in French").waitFor();
    await page.getByTestId("rollback-reason").fill("ui test: back to English");
    await shot(page, "rollback-dialog", false);
    await page.getByTestId("rollback-confirm").click();
    await page.getByTestId("rollback-result").waitFor({ timeout: waitMs });
    const revert = git(repo, "rev-parse", "HEAD");
    assert.notEqual(revert, french);
    assert.equal(git(repo, "rev-parse", "HEAD^"), french, "the revert commit is on top of the branch");
    assert.match(git(repo, "log", "-1", "--format=%s"), new RegExp(`^Rollback dev/site: revert ${french.slice(0, 7)}`));
    await until("dev to sync the revert", () => (readFileSync(site, "utf8") === "<h1>Hello from dev</h1>\n" ? true : undefined));
    await page.getByTestId("dialog-cancel").click();
    await until("the revert commit in the history, synced", async () => {
      const first = page.getByTestId("history-entry").first();
      return (await first.innerText()).includes(revert.slice(0, 7)) && await first.getAttribute("data-outcome") === "succeeded" ? true : undefined;
    });
    await notReloaded(page);
    const last = await (await api("/api/v1/history?environment=dev&stack=site&limit=1", adminToken)).json() as { items: { revision: { sha: string }; outcome: string }[] };
    assert.equal(last.items[0]?.revision.sha, revert);
    assert.equal(last.items[0]?.outcome, "succeeded");
    await shot(page, "stack-rolled-back");
  });

  it("shows the audit log with its chain verified", async () => {
    await page.goto(`${running.url}/#/audit`);
    await page.getByTestId("audit-page").waitFor();
    await page.getByTestId("audit-entry").first().waitFor();
    assert.equal(await page.getByTestId("audit-verification").getAttribute("data-ok"), "true");
    await shot(page, "audit");
  });

  it("creates a token on the tokens page, shown once, that the API accepts", async () => {
    await page.goto(`${running.url}/#/tokens`);
    await page.getByTestId("tokens-page").waitFor();
    await page.getByTestId("token-ui-viewer").waitFor();
    await page.getByTestId("token-name").fill("ci-reader");
    await page.getByTestId("token-role").selectOption("viewer");
    await page.getByTestId("token-submit").click();
    await page.getByTestId("token-created").waitFor({ timeout: waitMs });
    const token = await page.getByTestId("token-value").inputValue();
    const me = await api("/api/v1/me", token);
    assert.equal(me.status, 200);
    assert.equal((await me.json() as { name: string }).name, "ci-reader");
    await page.getByTestId("token-ci-reader").waitFor();
    // The picture is for the docs: the value itself is masked.
    await page.screenshot({ path: join(artifacts, "tokens.png"), fullPage: true, mask: [page.getByTestId("token-value")], maskColor: "#9aa0a6" });
  });

  it("gives a viewer no Sync or Roll back button, and the API answers 403", async () => {
    const viewer = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await viewer.goto(`${running.url}/`);
    await viewer.getByTestId("login-token").fill(viewerToken);
    await viewer.getByTestId("login-submit").click();
    await viewer.getByTestId("overview-page").waitFor();
    await viewer.goto(`${running.url}/#/stacks/prod/site`);
    await viewer.getByTestId("stack-page").waitFor();
    await viewer.getByTestId("history-entry").first().waitFor();
    assert.equal(await viewer.getByTestId("sync-button").count(), 0);
    assert.equal(await viewer.getByTestId("rollback-button").count(), 0);
    await shot(viewer, "stack-viewer");
    const denied = await api("/api/v1/sync", viewerToken, { method: "POST", body: JSON.stringify({ environment: "prod", stack: "site" }) });
    assert.equal(denied.status, 403);
    assert.equal((await denied.json() as { error: { code: string } }).error.code, "forbidden");
    const rollback = await api("/api/v1/rollback", viewerToken, { method: "POST", body: JSON.stringify({ environment: "dev", reason: "a viewer tries" }) });
    assert.equal(rollback.status, 403);
    await viewer.context().close();
  });
});
