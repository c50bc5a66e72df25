import { existsSync } from "node:fs";
import { readFile, readdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";

/** One recorded HTTP exchange with the real API server (see shared/kubernetes-api/README.md). */
export interface RecordedExchange {
  readonly request: {
    readonly method: string;
    readonly path: string;
    readonly url: string;
    readonly headers: Readonly<Record<string, string>>;
    readonly body?: unknown;
  };
  readonly response: {
    readonly status: number;
    readonly headers: Readonly<Record<string, string>>;
    readonly body?: unknown;
  };
}

/** shared/kubernetes-api beside the checkout, the source of truth where it exists (/work/main, /work/shared). */
export const sharedRecordings = fileURLToPath(new URL("../../../../shared/kubernetes-api/", import.meta.url));
/** The copy kept in the repository, so a clone alone can run the tests; a test keeps it equal to the shared one. */
export const vendoredRecordings = fileURLToPath(new URL("../../fixtures/kubernetes-api/", import.meta.url));

/**
 * The directory holding the recordings: `GITWARD_RECORDINGS_DIR`, else shared/kubernetes-api
 * beside the checkout, else the copy in test/fixtures.
 */
export function recordingsRoot(): string {
  const override = process.env["GITWARD_RECORDINGS_DIR"];
  const dir = override !== undefined && override !== "" ? override : existsSync(`${sharedRecordings}README.md`) ? sharedRecordings : vendoredRecordings;
  if (!existsSync(`${dir}/README.md`)) {
    throw new Error(
      `Kubernetes API recordings not found at ${dir}: the fake API server needs shared/kubernetes-api/ ` +
        `beside the checkout (or GITWARD_RECORDINGS_DIR pointing at it)`,
    );
  }
  return dir.endsWith("/") ? dir : `${dir}/`;
}

/** Reads one recorded exchange by its path under the recordings root, e.g. `01-discovery/get-api.json`. */
export async function readExchange(relPath: string): Promise<RecordedExchange> {
  const text = await readFile(`${recordingsRoot()}${relPath}`, "utf8");
  const parsed = JSON.parse(text) as unknown;
  if (!isExchange(parsed)) throw new Error(`${relPath}: not a recorded exchange`);
  return parsed;
}

/** The `.json` exchange files directly in a recordings folder, sorted, as paths under the root. */
export async function listExchanges(folder: string): Promise<string[]> {
  const names = await readdir(`${recordingsRoot()}${folder}`, { withFileTypes: true });
  return names
    .filter((d) => d.isFile() && d.name.endsWith(".json") && d.name !== "openapi-v2.json")
    .map((d) => `${folder}/${d.name}`)
    .sort();
}

/** Reads a file under the recordings root as bytes (the OpenAPI body is kept verbatim). */
export async function readRecordedBytes(relPath: string): Promise<Buffer> {
  return readFile(`${recordingsRoot()}${relPath}`);
}

function isExchange(value: unknown): value is RecordedExchange {
  if (typeof value !== "object" || value === null) return false;
  const v = value as { request?: { method?: unknown; path?: unknown }; response?: { status?: unknown } };
  return typeof v.request?.method === "string" && typeof v.request.path === "string" && typeof v.response?.status === "number";
}
