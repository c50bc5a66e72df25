import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FakeApiServer, RecordedExchange } from "./fake-apiserver.ts";
import { readExchange, startFakeApiServer } from "./fake-apiserver.ts";
import { ReplaySession } from "./fake-apiserver/replay.ts";

// The 06-watch recordings replayed in order: each watch is opened (with a shorter timeout than
// recorded), the writes recorded during it are replayed, and the streamed events must match.

const skip = process.env["GITWARD_TEST_KUBECONFIG"] !== undefined && process.env["GITWARD_TEST_KUBECONFIG"] !== "";

const applyYaml = (path: string, yaml: string) => ({ method: "PATCH", url: `${path}?fieldManager=gitward`, contentType: "application/apply-patch+yaml", body: yaml });
const configMapYaml = (ns: string, name: string, v: string) =>
  applyYaml(`/api/v1/namespaces/${ns}/configmaps/${name}`, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${ns}\ndata:\n  v: "${v}"\n`);
const namespaceYaml = (name: string) => applyYaml(`/api/v1/namespaces/${name}`, `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`);
const timeout = (seconds: number) => (url: string) => url.replace(/timeoutSeconds=\d+/, `timeoutSeconds=${seconds}`);

describe("06-watch replayed against the fake", { skip }, () => {
  let fake: FakeApiServer;
  let session: ReplaySession;
  const recorded = (name: string): Promise<RecordedExchange> => readExchange(`06-watch/${name}.json`);
  const replay = async (name: string) => assert.deepEqual((await session.replay(await recorded(name))).problems, []);
  const send = async (request: Parameters<ReplaySession["send"]>[0], status: number) => assert.equal((await session.send(request)).status, status);

  before(async () => {
    // A small watch cache, so that 08 can push the first resourceVersion out of it.
    fake = await startFakeApiServer({ watchCacheSize: 50 });
    session = new ReplaySession(fake);
    await send(namespaceYaml("gitward-watch"), 201);
  });
  after(async () => {
    assert.deepEqual(fake.controllerErrors, []);
    await fake.close();
  });

  it("01 lists the starting resourceVersion", () => replay("01-list-configmaps-get-resourceversion"));

  it("02 streams ADDED, MODIFIED, DELETED from a list's resourceVersion, then a BOOKMARK before the timeout", async () => {
    const done = await session.watch(await recorded("02-watch-configmaps-from-list-resourceversion-with-bookmarks"), timeout(6));
    await replay("02a-apply-create-during-watch-201");
    await replay("02b-apply-update-during-watch-200");
    await replay("02c-delete-during-watch-200");
    assert.deepEqual(await done(), []);
  });

  it("03 starts without resourceVersion with synthetic ADDED events", async () => {
    await send(configMapYaml("gitward-watch", "existing-1", "1"), 201);
    const done = await session.watch(await recorded("03-watch-configmaps-without-resourceversion"), timeout(1));
    assert.deepEqual(await done(), []);
  });

  it("04 starts at resourceVersion 0 the same way", async () => {
    const done = await session.watch(await recorded("04-watch-configmaps-resourceversion-0"), timeout(1));
    assert.deepEqual(await done(), []);
  });

  it("05 replays the cached history from resourceVersion 1", async () => {
    const done = await session.watch(await recorded("05-watch-configmaps-resourceversion-1-replays-cached-history"), timeout(1));
    assert.deepEqual(await done(), []);
  });

  it("06 streams only the object a field selector names", async () => {
    const done = await session.watch(await recorded("06-watch-configmap-fieldselector-name"), timeout(1));
    await send(configMapYaml("gitward-watch", "existing-2", "1"), 201);
    await send(configMapYaml("gitward-watch", "existing-1", "7"), 200);
    assert.deepEqual(await done(), []);
  });

  it("07 streams a Deployment's ADDED and the controller's three status updates", async () => {
    const done = await session.watch(await recorded("07-watch-deployment-rollout-status-updates"), timeout(1));
    await replay("07a-apply-deployment-during-watch-201");
    assert.deepEqual(await done(), []);
  });

  it("08 answers a too-old resourceVersion with 200 and one ERROR 410 Expired event", async () => {
    await send(namespaceYaml("gitward-churn"), 201);
    for (let i = 0; i < 60; i++) await send(configMapYaml("gitward-churn", `churn-${i % 5}`, String(i)), i < 5 ? 201 : 200);
    const done = await session.watch(await recorded("08-watch-configmaps-too-old-resourceversion-410"), timeout(1));
    assert.deepEqual(await done(), []);
  });

  it("09 lists at an exact old resourceVersion from history", () => replay("09-list-configmaps-old-resourceversion-exact-200"));
});
