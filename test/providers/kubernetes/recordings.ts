import { readFileSync, readdirSync } from "node:fs";
import type { KObject } from "../../../src/core/object.ts";
import { recordingsRoot } from "../../support/fake-apiserver/recordings.ts";

/** The recorded exchanges with a real API server, found as the fake API server finds them. */
export const recordingsDir = recordingsRoot();

/** One recorded exchange, as much of it as these tests read. */
export interface Recorded {
  readonly request: { readonly method: string; readonly path: string; readonly url: string; readonly body?: unknown };
  readonly response: {
    readonly status: number;
    readonly headers: Readonly<Record<string, string>>;
    readonly body?: unknown;
  };
}

/** Reads a recorded exchange by its path under the recordings, e.g. `07-status/02-get-deployment-web-after-controller.json`. */
export function recorded(relPath: string): Recorded {
  return JSON.parse(readFileSync(`${recordingsDir}${relPath}`, "utf8")) as Recorded;
}

/** The response body of a recorded exchange, as an object. */
export function recordedObject(relPath: string): KObject {
  return recorded(relPath).response.body as KObject;
}

/** The items of a recorded List, with the kind and apiVersion the server leaves out of items. */
export function recordedItems(relPath: string): KObject[] {
  const list = recordedObject(relPath) as { kind: string; apiVersion: string; items: KObject[] };
  const kind = list.kind.replace(/List$/, "");
  return list.items.map((item) => ({ kind, apiVersion: list.apiVersion, ...item }));
}

/** The exchange files of a folder, sorted, as paths under the recordings. */
export function recordedFiles(folder: string): string[] {
  return readdirSync(`${recordingsDir}${folder}`)
    .filter((name) => name.endsWith(".json"))
    .sort()
    .map((name) => `${folder}/${name}`);
}
