import { baseHeaders } from "./http.ts";
import { readExchange, readRecordedBytes } from "./recordings.ts";
import type { Route } from "./router.ts";

/** The recorded /openapi/v2 answer: the document's bytes and the headers it was served with. */
export interface OpenApiData {
  readonly body: Buffer;
  readonly etag: string;
  readonly lastModified: string;
}

/** Loads the OpenAPI v2 document as recorded (it already holds the Widget CRD's types). */
export async function loadOpenApi(): Promise<OpenApiData> {
  const exchange = await readExchange("02-openapi/get-openapi-v2.json");
  const headers = exchange.response.headers;
  return {
    body: await readRecordedBytes("02-openapi/openapi-v2.json"),
    etag: headers["etag"] ?? "",
    lastModified: headers["last-modified"] ?? "",
  };
}

/** The route of /openapi/v2: served as text/plain with an ETag, 304 for a matching If-None-Match. */
export function openApiRoutes(data: OpenApiData): Route[] {
  return [
    {
      method: "GET",
      path: /^\/openapi\/v2\/?$/,
      handle({ req, res, user }) {
        const common = { ...baseHeaders({ user }), etag: data.etag, vary: "Accept-Encoding, Accept" };
        if (req.headers["if-none-match"] === data.etag) {
          res.writeHead(304, common);
          res.end();
          return;
        }
        res.writeHead(200, {
          ...common,
          "accept-ranges": "bytes",
          "content-length": String(data.body.length),
          "content-type": "text/plain; charset=utf-8",
          "last-modified": data.lastModified,
        });
        res.end(data.body);
      },
    },
  ];
}
