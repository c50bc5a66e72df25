import type { ServerResponse } from "node:http";
import type { Cluster } from "./cluster.ts";
import { listFilter, matchesFilter, selectObjects } from "./handlers-read.ts";
import type { ReplyOptions } from "./http.ts";
import { baseHeaders } from "./http.ts";
import { renderObject } from "./render.ts";
import type { ResourceRequest } from "./resource-request.ts";
import { groupVersion } from "./resources.ts";
import type { StoreEvent } from "./store.ts";
import { metadataOf } from "./store.ts";
import type { JsonObject } from "./values.ts";

/** The open watch streams of a server, so that stopping the server can end them. */
export class WatchHub {
  private readonly open = new Set<() => void>();

  /** Ends every open watch stream. */
  closeAll(): void {
    for (const end of [...this.open]) end();
  }

  /** Streams a watch as the API server does: newline-delimited events over a chunked 200. */
  serve(cluster: Cluster, req: ResourceRequest, res: ServerResponse, reply: ReplyOptions): void {
    const filter = listFilter(req.query);
    const { r } = req;
    const write = (type: string, object: JsonObject) => res.write(`${JSON.stringify({ type, object })}\n`);
    const relevant = (e: StoreEvent) =>
      e.storage === r.storage && (!r.namespaced || req.namespace === "" || e.namespace === req.namespace) && matchesFilter(filter, e.object);
    res.writeHead(200, { ...baseHeaders(reply), "content-type": "application/json", "transfer-encoding": "chunked" });
    res.flushHeaders();
    const rvParam = req.query.get("resourceVersion") ?? "";
    const pending: StoreEvent[] = [];
    let live = false;
    const unsubscribe = cluster.store.subscribe((e) => {
      if (!relevant(e)) return;
      if (live) write(e.type, renderObject(r, e.object));
      else pending.push(e);
    });
    const timers: NodeJS.Timeout[] = [];
    const end = () => {
      unsubscribe();
      for (const t of timers) clearTimeout(t);
      this.open.delete(end);
      if (!res.writableEnded) res.end();
    };
    this.open.add(end);
    res.on("close", end);
    if (rvParam === "" || rvParam === "0") {
      // The watch cache's order, which follows creation here; clients must not rely on it.
      const rv = (o: JsonObject) => Number(metadataOf(o)["resourceVersion"]);
      for (const obj of selectObjects(cluster, req, filter).sort((a, b) => rv(a) - rv(b))) write("ADDED", renderObject(r, obj));
    } else {
      const history = cluster.store.eventsSince(r.storage, Number(rvParam));
      if (!Array.isArray(history)) {
        write("ERROR", {
          kind: "Status",
          apiVersion: "v1",
          metadata: {},
          status: "Failure",
          message: `too old resource version: ${rvParam} (${history.expired})`,
          reason: "Expired",
          code: 410,
        });
        return end();
      }
      for (const e of history) if (relevant(e)) write(e.type, renderObject(r, e.object));
      pending.length = 0;
    }
    for (const e of pending) write(e.type, renderObject(r, e.object));
    live = true;
    const timeoutMs = Number(req.query.get("timeoutSeconds") ?? "1800") * 1000;
    timers.push(setTimeout(end, timeoutMs));
    // The recorded server sent its bookmark 1.5 s before a 15 s timeout, and none for a 5 s one.
    if (req.query.get("allowWatchBookmarks") === "true" && timeoutMs > 5000) {
      const at = timeoutMs - 1500;
      timers.push(
        setTimeout(() => {
          const bookmark = { kind: r.kind, apiVersion: groupVersion(r), metadata: { resourceVersion: String(cluster.store.currentResourceVersion()), creationTimestamp: null } };
          write("BOOKMARK", bookmark);
        }, at),
      );
    }
  }
}
