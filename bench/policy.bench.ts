// Policy engine benchmark: 10,000 rendered objects x 20 policies (the 9 built-ins and 11
// repository policies), target under 1 s for one evaluation. Run:
//   node bench/policy.bench.ts [--objects 10000] [--runs 7]
// Prints a markdown table; bench/RESULTS.md ("Policy evaluation") records the figures.
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import type { KObject, RenderedObject } from "../src/core/object.ts";
import { refOf } from "../src/core/object.ts";
import { loadPolicies, type BuiltinSelection, type PolicyContext, type PolicySet } from "../src/policy/index.ts";

const TARGET_MS = 1000;

const { values } = parseArgs({ options: { objects: { type: "string", default: "10000" }, runs: { type: "string", default: "7" } } });
const objectCount = Number(values.objects);
const runs = Number(values.runs);

const builtins: BuiltinSelection[] = [
  { name: "no-latest-image" },
  { name: "resources-required", environments: { dev: { enforcement: "warn" } } },
  { name: "no-privileged" },
  { name: "no-host-path" },
  { name: "no-host-namespaces" },
  { name: "no-added-capabilities", params: { allow: ["NET_BIND_SERVICE"] } },
  { name: "required-labels", params: { labels: ["app", "team"] } },
  { name: "no-external-services" },
  { name: "secrets-encrypted" },
];

const workloads = `[{ apiGroups: [apps], kinds: [Deployment, StatefulSet, DaemonSet] }, { apiGroups: [batch], kinds: [Job, CronJob] }]`;

const repoPolicies: Record<string, string> = {
  "require-team-label": `match: { resources: [{ apiGroups: [apps], kinds: [Deployment, StatefulSet] }] }
  validations:
    - expression: "has(object.metadata.labels) && 'team' in object.metadata.labels"
      message: workloads must carry a team label`,
  "min-replicas": `environments: { dev: { enforcement: warn } }
  match: { resources: [{ apiGroups: [apps], kinds: [Deployment] }], environments: [prod, staging] }
  validations:
    - expression: "!has(object.spec.replicas) || object.spec.replicas >= 2"
      messageExpression: "'replicas is ' + string(object.spec.replicas) + ', ' + env.name + ' needs 2'"`,
  "trusted-registry": `match: { resources: ${workloads} }
  validations:
    - expression: "gitward.containers(object).all(c, c.image.startsWith('ghcr.io/acme/') || c.image.startsWith('registry.acme.io/'))"
      messageExpression: "'untrusted images: ' + gitward.containers(object).filter(c, !c.image.startsWith('ghcr.io/acme/') && !c.image.startsWith('registry.acme.io/')).map(c, c.image).join(', ')"`,
  "readiness-probes": `match: { resources: [{ apiGroups: [apps], kinds: [Deployment, StatefulSet] }] }
  validations:
    - expression: "object.spec.template.spec.containers.all(c, has(c.readinessProbe))"
      message: every container needs a readinessProbe`,
  "no-default-namespace": `validations:
    - expression: "!has(object.metadata.namespace) || object.metadata.namespace != 'default'"
      message: do not deploy to the default namespace`,
  "configmap-size": `match: { resources: [{ apiGroups: [""], kinds: [ConfigMap] }] }
  validations:
    - expression: "!has(object.data) || size(object.data) <= 50"
      message: ConfigMaps hold at most 50 keys
    - expression: "!has(object.data) || object.data.all(k, size(object.data[k]) < 65536)"
      message: ConfigMap values stay under 64 KiB`,
  "ingress-tls": `match: { resources: [{ apiGroups: [networking.k8s.io], kinds: [Ingress] }] }
  validations:
    - expression: "has(object.spec.tls) && size(object.spec.tls) > 0"
      message: Ingresses terminate TLS`,
  "named-service-ports": `match: { resources: [{ apiGroups: [""], kinds: [Service] }] }
  validations:
    - expression: "object.spec.ports.all(p, has(p.name))"
      message: Service ports are named`,
  "run-as-non-root": `enforcement: warn
  match: { resources: ${workloads} }
  validations:
    - expression: "has(gitward.podSpec(object).securityContext) && has(gitward.podSpec(object).securityContext.runAsNonRoot) && gitward.podSpec(object).securityContext.runAsNonRoot == true"
      message: pods run as non-root`,
  "name-length": `validations:
    - expression: "object.metadata.name.size() <= 53 && object.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')"
      message: names are DNS labels of at most 53 characters`,
  "no-plain-secret-env": `match: { resources: ${workloads}, labelSelector: { matchExpressions: [{ key: app, operator: Exists }] } }
  validations:
    - expression: "gitward.containers(object).all(c, !has(c.env) || c.env.all(e, !e.name.upperAscii().contains('PASSWORD') || has(e.valueFrom)))"
      message: passwords come from Secrets, not literal env values`,
};

function policyFiles(): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const [name, spec] of Object.entries(repoPolicies)) {
    const doc = `apiVersion: policy.gitward.dev/v1alpha1\nkind: Policy\nmetadata: { name: ${name} }\nspec:\n  ${spec}\n`;
    files.set(`policies/${name}.yaml`, Buffer.from(doc));
  }
  files.set("policies/README.md", Buffer.from("# Policies\n"));
  return files;
}

function container(i: number, name: string): KObject {
  const bad = i % 50 === 0;
  return {
    name,
    image: bad ? "nginx:latest" : `ghcr.io/acme/${name}:1.${i % 10}.${i % 7}`,
    ports: [{ name: "http", containerPort: 8080 }],
    env: [
      { name: "LOG_LEVEL", value: "info" },
      { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } },
      { name: "REGION", value: "eu-west-1" },
    ],
    readinessProbe: { httpGet: { path: "/ready", port: 8080 } },
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
    resources: bad ? { requests: { cpu: "100m" } } : { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
  };
}

function workload(i: number, apiVersion: string, kind: string): KObject {
  const podSpec = {
    securityContext: { runAsNonRoot: i % 7 !== 0 },
    initContainers: i % 3 === 0 ? [container(i + 1, "init")] : [],
    containers: [container(i, "app"), container(i + 2, "sidecar")],
    volumes: [{ name: "tmp", emptyDir: {} }],
  };
  const template = { metadata: { labels: { app: `app-${i}` } }, spec: podSpec };
  const spec: KObject =
    kind === "CronJob"
      ? { schedule: "0 * * * *", jobTemplate: { spec: { template } } }
      : { replicas: kind === "Deployment" ? 1 + (i % 3) : 1, selector: { matchLabels: { app: `app-${i}` } }, template };
  return { apiVersion, kind, metadata: meta(i, `${kind.toLowerCase()}-${i}`), spec };
}

function meta(i: number, name: string): KObject {
  const labels: KObject = i % 20 === 0 ? { app: `app-${i}` } : { app: `app-${i}`, team: `team-${i % 12}` };
  return { name, namespace: `ns-${i % 40}`, labels, annotations: { "example.com/owner": `owner-${i % 9}` } };
}

function makeObject(i: number): KObject {
  const bucket = i % 20;
  if (bucket < 6) return workload(i, "apps/v1", "Deployment");
  if (bucket < 8) return workload(i, "apps/v1", "StatefulSet");
  if (bucket === 8) return workload(i, "apps/v1", "DaemonSet");
  if (bucket === 9) return workload(i, "batch/v1", i % 2 === 0 ? "CronJob" : "Job");
  if (bucket < 13) {
    const type = i % 40 === 10 ? "LoadBalancer" : "ClusterIP";
    return { apiVersion: "v1", kind: "Service", metadata: meta(i, `svc-${i}`), spec: { type, selector: { app: `app-${i}` }, ports: [{ name: "http", port: 80, targetPort: 8080 }] } };
  }
  if (bucket < 17) {
    const data: Record<string, string> = {};
    for (let k = 0; k < 8; k++) data[`key-${k}`] = `value-${i}-${k}-${"x".repeat(k * 8)}`;
    return { apiVersion: "v1", kind: "ConfigMap", metadata: meta(i, `cm-${i}`), data };
  }
  if (bucket === 17) {
    const sops = i % 60 === 17 ? {} : { sops: { mac: "ENC[AES256_GCM,data:abc]", version: "3.9.0" } };
    return { apiVersion: "v1", kind: "Secret", metadata: meta(i, `secret-${i}`), data: { password: "ENC[AES256_GCM,data:xyz]" }, ...sops };
  }
  const tls = i % 3 === 0 ? {} : { tls: [{ hosts: [`h${i}.example.com`], secretName: `tls-${i}` }] };
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: meta(i, `ing-${i}`),
    spec: { ...tls, rules: [{ host: `h${i}.example.com`, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: `svc-${i}`, port: { number: 80 } } } }] } }] },
  };
}

function rendered(count: number): RenderedObject[] {
  return Array.from({ length: count }, (_, i) => {
    const object = makeObject(i);
    const ref = refOf(object);
    if (ref === undefined) throw new Error(`object ${i} has no ref`);
    return { object, ref, apiVersion: typeof object["apiVersion"] === "string" ? object["apiVersion"] : "", source: { file: `apps/s${i % 40}/objects.yaml`, line: 1 + (i % 500) * 30 } };
  });
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

function time<T>(fn: () => T): { ms: number; value: T } {
  const start = performance.now();
  const value = fn();
  return { ms: performance.now() - start, value };
}

const files = policyFiles();
const loads = Array.from({ length: runs }, () => time(() => loadPolicies({ files, builtins, configFile: "gitward.yaml" })));
const set: PolicySet = loads[0]!.value;
if (set.policies.length !== 20) throw new Error(`expected 20 policies, loaded ${set.policies.length}`);
const objects = rendered(objectCount);
const ctx: PolicyContext = { environment: { name: "prod", vars: { replicas: "3" } }, stack: { name: "web", target: "cluster", namespace: "web" } };

set.evaluate(objects, ctx); // warm-up: JIT, and the cost guard's first estimates
const evals = Array.from({ length: runs }, () => time(() => set.evaluate(objects, ctx)));
const last = evals.at(-1)!.value;
const errors = last.findings.filter((f) => f.severity === "error").length;
const warnings = last.findings.filter((f) => f.severity === "warning").length;
const evaluationErrors = last.findings.filter((f) => f.rule === "policy.evaluation-error").length;
const evalMs = evals.map((e) => e.ms);
const med = median(evalMs);

const fmt = (ms: number) => ms.toFixed(1);
console.log(`policy bench: ${objectCount} objects x ${set.policies.length} policies, ${runs} runs, node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}`);
console.log("");
console.log("| Measured | min ms | median ms | max ms | target | result |");
console.log("|---|---:|---:|---:|---|---|");
const loadMs = loads.map((l) => l.ms);
console.log(`| load + compile 20 policies | ${fmt(Math.min(...loadMs))} | ${fmt(median(loadMs))} | ${fmt(Math.max(...loadMs))} | | |`);
console.log(
  `| evaluate ${objectCount} objects | ${fmt(Math.min(...evalMs))} | ${fmt(med)} | ${fmt(Math.max(...evalMs))} | < ${TARGET_MS} ms | ${med < TARGET_MS ? "met" : "MISSED"} |`,
);
console.log("");
console.log(`findings: ${errors} errors, ${warnings} warnings (${evaluationErrors} evaluation errors); peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);
if (evaluationErrors > 0) {
  console.log(last.findings.find((f) => f.rule === "policy.evaluation-error")?.message);
  process.exitCode = 1;
}
if (med >= TARGET_MS) process.exitCode = 1;
