import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The agent's Prometheus metrics, on a registry of its own (so tests and several agents in one process do not collide). */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly syncs = new Counter({
    name: "gitward_syncs_total", help: "Syncs by environment, stack and result.",
    labelNames: ["environment", "stack", "result"] as const, registers: [this.registry],
  });
  readonly syncDuration = new Histogram({
    name: "gitward_sync_duration_seconds", help: "Duration of syncs.",
    labelNames: ["environment", "stack"] as const, buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  readonly driftObjects = new Gauge({
    name: "gitward_drift_objects", help: "Objects that differ from Git at the last drift check.",
    labelNames: ["environment", "stack"] as const, registers: [this.registry],
  });
  readonly revisionInfo = new Gauge({
    name: "gitward_revision_info", help: "The revision each stack last synced successfully (value 1).",
    labelNames: ["environment", "stack", "revision"] as const, registers: [this.registry],
  });
  readonly queueDepth = new Gauge({ name: "gitward_queue_depth", help: "Work items waiting.", registers: [this.registry] });
  readonly gitFetchDuration = new Histogram({
    name: "gitward_git_fetch_duration_seconds", help: "Duration of checks and fetches of the repository.",
    labelNames: ["kind"] as const, buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [this.registry],
  });
  readonly lastPollSuccess = new Gauge({
    name: "gitward_last_successful_poll_timestamp_seconds", help: "When the repository was last reached.", registers: [this.registry],
  });
  readonly sseClients = new Gauge({ name: "gitward_sse_clients", help: "Clients connected to the event stream.", registers: [this.registry] });
  readonly #revisions = new Map<string, string>();

  constructor(opts: { defaults?: boolean } = {}) {
    if (opts.defaults !== false) collectDefaultMetrics({ register: this.registry, prefix: "gitward_" });
  }

  /** Sets the revision info of a stack, removing its previous revision's series. */
  setRevision(environment: string, stack: string, revision: string): void {
    const key = `${environment}/${stack}`;
    const previous = this.#revisions.get(key);
    if (previous === revision) return;
    if (previous !== undefined) this.revisionInfo.remove({ environment, stack, revision: previous });
    this.revisionInfo.set({ environment, stack, revision }, 1);
    this.#revisions.set(key, revision);
  }
}
