/**
 * What the apply benchmark applies: N small objects, the same for every tool. Nine in ten are
 * ConfigMaps of a few hundred bytes; every tenth is a LimitRange or a ResourceQuota (in turn)
 * whose quantities are written the way people write them, not the way the API server stores
 * them (`cpu: 1000m`, `memory: 1024Mi`, `0.5`, a number), so an unchanged re-apply that compares
 * raw values would write them every time. gitward reads them from a generated repository (one
 * multi-document file, one environment per measured namespace); kubectl from a multi-document
 * file per namespace; the raw loop and the provider session take them as objects. Each carries
 * gitward's stack and environment labels, so every tool sends the same bytes to the server.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { KObject } from "../src/core/object.ts";
import type { DesiredObject } from "../src/providers/provider.ts";
import { benchGitEnv } from "./generate-repo.ts";

/** The stack that holds the objects in the generated repository. */
export const benchStack = "configs";

/** The kinds of the fixture and their resources (all core/v1, namespaced). */
export const benchKinds = { ConfigMap: "configmaps", LimitRange: "limitranges", ResourceQuota: "resourcequotas" } as const;

/** The collection path of a fixture object's kind in a namespace. */
export function collectionPathOf(kind: string, namespace: string): string {
  return `/api/v1/namespaces/${namespace}/${benchKinds[kind as keyof typeof benchKinds]}`;
}

/** Object `i` of the fixture, without a namespace: a ConfigMap, or every tenth a LimitRange or ResourceQuota. */
export function benchObject(i: number, environment: string): KObject {
  if (i % 10 !== 9) return configMap(i, environment);
  const quota = Math.floor(i / 10) % 2 === 1;
  const metadata = { name: `${quota ? "quota" : "limits"}-${String(i).padStart(4, "0")}`, labels: labelsOf(i, environment) };
  if (quota) {
    return {
      apiVersion: "v1", kind: "ResourceQuota", metadata,
      spec: { hard: { "requests.cpu": "4000m", "requests.memory": "8192Mi", "limits.cpu": 8, "limits.memory": "16384Mi", "requests.ephemeral-storage": "0.5Gi" } },
    };
  }
  return {
    apiVersion: "v1", kind: "LimitRange", metadata,
    spec: { limits: [{ type: "Container", default: { cpu: "1000m", memory: "1024Mi" }, defaultRequest: { cpu: "0.5", memory: "268435456" }, max: { cpu: 2, memory: "2048Mi" } }] },
  };
}

function labelsOf(i: number, environment: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": `app-${i % 40}`,
    "app.kubernetes.io/part-of": "apply-bench",
    "gitward.dev/stack": benchStack,
    "gitward.dev/environment": environment,
  };
}

/** One generated ConfigMap, without a namespace (the stack's namespace or the caller's). */
export function configMap(i: number, environment: string): KObject {
  const name = `config-${String(i).padStart(4, "0")}`;
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, labels: labelsOf(i, environment) },
    data: {
      LOG_LEVEL: i % 3 === 0 ? "debug" : "info",
      MAX_CONNECTIONS: String(100 + (i % 50) * 4),
      UPSTREAM_URL: `https://upstream-${i % 25}.apply-bench.example.com:8443/v1`,
      "settings.yaml": `server:\n  name: ${name}\n  shutdownTimeout: 25s\ncache:\n  ttl: 5m\n  size: ${1000 + i}\n`,
    },
  };
}

/** The fixture's objects of one namespace, with the namespace set. */
export function benchObjects(count: number, environment: string, namespace: string): KObject[] {
  return Array.from({ length: count }, (_, i) => {
    const o = benchObject(i, environment);
    return { ...o, metadata: { ...(o["metadata"] as object), namespace } };
  });
}

/** The same objects as the engine hands them to a target session (rendered and labelled). */
export function desiredObjects(objects: readonly KObject[]): DesiredObject[] {
  return objects.map((object) => {
    const meta = object["metadata"] as { name: string; namespace: string };
    return { ref: { group: "", kind: object["kind"] as string, namespace: meta.namespace, name: meta.name }, apiVersion: "v1", object };
  });
}

/** Objects as a multi-document YAML file (JSON documents, which are YAML), for kubectl. */
export function multiDocument(objects: readonly KObject[]): string {
  return objects.map((o) => `---\n${JSON.stringify(o)}\n`).join("");
}

/** What {@link generateApplyRepo} wrote. */
export interface ApplyRepo {
  readonly dir: string;
  /** Environment name -> the namespace its stack applies to. */
  readonly namespaces: Readonly<Record<string, string>>;
  readonly objects: number;
}

/**
 * A git repository with one stack of the `count` fixture objects in one file, and one environment per
 * name in `environments`, each putting the stack in its own namespace (`namespaceOf(env)`), so
 * every repetition creates into a fresh namespace. The files carry no gitward labels: the engine
 * adds them.
 */
export function generateApplyRepo(dir: string, count: number, environments: readonly string[], namespaceOf: (env: string) => string): ApplyRepo {
  const root = resolve(dir);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, benchStack), { recursive: true });
  const namespaces = Object.fromEntries(environments.map((e) => [e, namespaceOf(e)]));
  const yaml = [
    "# Generated by bench/apply-fixture.ts; do not edit.",
    "version: 1",
    "environments:",
    ...environments.map((e) => `  ${e}: { targets: { cluster: { provider: kubernetes } }, sync: { prune: true } }`),
    "stacks:",
    `  ${benchStack}:`,
    "    target: cluster",
    `    path: ${benchStack}`,
    "    environments:",
    ...environments.map((e) => `      ${e}: { namespace: ${namespaces[e] ?? ""} }`),
    "",
  ].join("\n");
  writeFileSync(join(root, "gitward.yaml"), yaml);
  const docs = Array.from({ length: count }, (_, i) => {
    const o = benchObject(i, "unused");
    const meta = o["metadata"] as { name: string; labels: Record<string, string> };
    const { "gitward.dev/stack": _s, "gitward.dev/environment": _e, ...labels } = meta.labels;
    return { ...o, metadata: { name: meta.name, labels } };
  });
  writeFileSync(join(root, benchStack, "objects.yaml"), docs.map((d) => `---\n${yamlOf(d)}`).join(""));
  const git = (...args: string[]): void => void execFileSync("git", args, { cwd: root, env: { ...process.env, ...benchGitEnv } });
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("commit", "-q", "-m", `Generate ${count} objects for ${environments.length} environments`);
  git("repack", "-a", "-d", "-q");
  git("prune-packed");
  return { dir: root, namespaces, objects: count };
}

// Block YAML as a person writes it; every string quoted, numbers bare, multi-line strings as literal blocks.
function yamlOf(value: unknown, indent = ""): string {
  if (typeof value !== "object" || value === null) throw new Error("yamlOf: objects and lists only");
  if (Array.isArray(value)) return value.map((item) => `${indent}- ${yamlOf(item, `${indent}  `).trimStart()}`).join("");
  let out = "";
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === "object" && v !== null) out += `${indent}${k}:\n${yamlOf(v, `${indent}  `)}`;
    else if (typeof v === "string" && v.includes("\n")) out += `${indent}${k}: |\n${v.trimEnd().split("\n").map((l) => `${indent}  ${l}\n`).join("")}`;
    else out += `${indent}${k}: ${JSON.stringify(v)}\n`;
  }
  return out;
}
