/**
 * The fake forge for tests: GitHub, GitLab or Gitea over one shared state (`state.ts`), served
 * on 127.0.0.1 (`server.ts`), each face checked against that forge's API description.
 *
 *   const forge = await startFakeForge("github");
 *   forge.state.addUser("ci-bot", "t0ken");
 *   … gitward with apiUrl forge.apiUrl, token "t0ken", repository "acme/infra" …
 *   assert.deepEqual(forge.state.nonConforming(), []);
 */
import { giteaFace } from "./gitea.ts";
import { githubFace } from "./github.ts";
import { gitlabFace } from "./gitlab.ts";
import { serveFace, type FakeForge } from "./server.ts";
import { FakeForgeState } from "./state.ts";

export type { FakeForge } from "./server.ts";
export { FakeForgeState } from "./state.ts";

export type FakeForgeKind = "github" | "gitlab" | "gitea";

/** Starts a fake forge of `kind` over `state` (a new one for `acme/infra` by default). */
export function startFakeForge(kind: FakeForgeKind, state = new FakeForgeState()): Promise<FakeForge> {
  const face = kind === "github" ? githubFace() : kind === "gitlab" ? gitlabFace() : giteaFace();
  return serveFace(face, state);
}
