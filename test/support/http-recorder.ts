import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** An HTTP server on 127.0.0.1 that answers every request with a ConfigMap and remembers the paths asked for. */
export interface HttpRecorder {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Request paths received so far, in order. */
  readonly requests: readonly string[];
  close(): Promise<void>;
}

/** Starts a {@link HttpRecorder} on a random port: a network that kustomize must not reach. */
export async function startHttpRecorder(): Promise<HttpRecorder> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? "");
    res.writeHead(200, { "content-type": "application/yaml" });
    res.end("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fetched\ndata:\n  from: network\n");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
