import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evaluateRevision, type RevisionEvaluation } from "../../src/engine/evaluate-revision.ts";
import { planRevisions, type PlanOutcome } from "../../src/engine/plan-revisions.ts";
import { openWorkspace, type Workspace, type WorkspaceOptions } from "../../src/engine/workspace.ts";

/** A workspace over a test repository with a private cache directory. */
export interface TestWorkspace {
  readonly ws: Workspace;
  readonly cacheDir: string;
  evaluate(rev?: string): Promise<RevisionEvaluation>;
  plan(base: string | undefined, head?: string): Promise<PlanOutcome>;
  close(): Promise<void>;
}

/** Opens the engine on a repository directory, as the CLI does. */
export async function testWorkspace(repo: string, extra: Partial<WorkspaceOptions> = {}): Promise<TestWorkspace> {
  const cacheDir = mkdtempSync(join(tmpdir(), "gitward-cache-"));
  const ws = await openWorkspace({ repo, cacheDir, noCache: false, allowRemoteBases: false, ...extra });
  const common = { source: ws.source, configPath: "gitward.yaml", filter: {}, renderer: ws.renderer, check: ws.check, configCache: ws.configCache };
  return {
    ws,
    cacheDir,
    evaluate: (rev = "HEAD") => evaluateRevision({ ...common, rev }),
    plan: (base, head = "HEAD") => planRevisions({ ...common, base, head }),
    close: async () => {
      await ws.close();
      rmSync(cacheDir, { recursive: true, force: true });
    },
  };
}
