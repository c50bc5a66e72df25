import type { ResourceType } from "./resources.ts";
import type { JsonObject } from "./values.ts";
import { ensureObject, isObject, objectAt, orderKeys } from "./values.ts";

/** What defaulting may need besides the object: its uid and an allocator for Service addresses. */
export interface DefaultingContext {
  readonly uid: string;
  readonly allocate: Allocator;
  /** The stored object when this is an update. */
  readonly live: JsonObject | undefined;
}

/** Hands out cluster IPs and node ports, like the API server's allocators. */
export class Allocator {
  private ip = 10;
  private port = 30080;
  clusterIP(): string {
    this.ip += 1;
    return `10.96.${Math.floor(this.ip / 250)}.${(this.ip % 250) + 1}`;
  }
  nodePort(): number {
    this.port += 1;
    return this.port;
  }
}

// Go field order of the structs whose defaults the fake fills in, so answers read as recorded.
const containerOrder = ["name", "image", "command", "args", "workingDir", "ports", "envFrom", "env", "resources", "volumeMounts", "volumeDevices", "livenessProbe", "readinessProbe", "startupProbe", "lifecycle", "terminationMessagePath", "terminationMessagePolicy", "imagePullPolicy", "securityContext", "stdin", "stdinOnce", "tty"];
const podSpecOrder = ["volumes", "initContainers", "containers", "ephemeralContainers", "restartPolicy", "terminationGracePeriodSeconds", "activeDeadlineSeconds", "dnsPolicy", "nodeSelector", "serviceAccountName", "serviceAccount", "automountServiceAccountToken", "nodeName", "hostNetwork", "hostPID", "hostIPC", "shareProcessNamespace", "securityContext", "imagePullSecrets", "hostname", "subdomain", "affinity", "schedulerName", "tolerations"];
const deploymentSpecOrder = ["replicas", "selector", "template", "strategy", "minReadySeconds", "revisionHistoryLimit", "paused", "progressDeadlineSeconds"];

/** Fills in the defaults the API server's defaulting functions set for built-in kinds. */
export function applyDefaults(r: ResourceType, obj: JsonObject, ctx: DefaultingContext): void {
  if (r.crd !== undefined) return;
  const spec = objectAt(obj, "spec");
  switch (`${r.group}/${r.kind}`) {
    case "/Namespace": {
      const meta = ensureObject(obj, ["metadata"]);
      ensureObject(meta, ["labels"])["kubernetes.io/metadata.name"] = meta["name"];
      const nsSpec = ensureObject(obj, ["spec"]);
      nsSpec["finalizers"] ??= ["kubernetes"];
      return;
    }
    case "apps/Deployment":
      if (spec === undefined) return;
      spec["replicas"] ??= 1;
      spec["strategy"] ??= { type: "RollingUpdate" };
      if (isObject(spec["strategy"]) && (spec["strategy"]["type"] ?? "RollingUpdate") === "RollingUpdate") {
        spec["strategy"]["type"] = "RollingUpdate";
        const ru = ensureObject(spec["strategy"], ["rollingUpdate"]);
        ru["maxUnavailable"] ??= "25%";
        ru["maxSurge"] ??= "25%";
      }
      spec["revisionHistoryLimit"] ??= 10;
      spec["progressDeadlineSeconds"] ??= 600;
      templateDefaults(spec);
      obj["spec"] = orderKeys(spec, deploymentSpecOrder);
      return;
    case "apps/ReplicaSet":
      if (spec === undefined) return;
      spec["replicas"] ??= 1;
      return templateDefaults(spec);
    case "apps/StatefulSet":
      if (spec === undefined) return;
      spec["replicas"] ??= 1;
      spec["podManagementPolicy"] ??= "OrderedReady";
      spec["updateStrategy"] ??= { type: "RollingUpdate", rollingUpdate: { partition: 0 } };
      spec["revisionHistoryLimit"] ??= 10;
      return templateDefaults(spec);
    case "apps/DaemonSet":
      if (spec === undefined) return;
      spec["updateStrategy"] ??= { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } };
      spec["revisionHistoryLimit"] ??= 10;
      return templateDefaults(spec);
    case "batch/Job":
      if (spec !== undefined) jobDefaults(obj, spec, ctx);
      return;
    case "batch/CronJob":
      if (spec === undefined) return;
      spec["concurrencyPolicy"] ??= "Allow";
      spec["suspend"] ??= false;
      spec["successfulJobsHistoryLimit"] ??= 3;
      spec["failedJobsHistoryLimit"] ??= 1;
      if (isObject(spec["jobTemplate"])) {
        ensureObject(spec["jobTemplate"], ["metadata"])["creationTimestamp"] ??= null;
        const jobSpec = objectAt(spec["jobTemplate"], "spec");
        if (jobSpec !== undefined) templateDefaults(jobSpec);
      }
      return;
    case "/Pod":
      if (spec !== undefined) obj["spec"] = podSpecDefaults(spec);
      return;
    case "/Service":
      if (spec !== undefined) serviceDefaults(spec, ctx);
      return;
    case "/PersistentVolumeClaim":
      if (spec !== undefined) spec["volumeMode"] ??= "Filesystem";
      return;
    case "/Secret": {
      obj["type"] ??= "Opaque";
      // stringData is write-only: the strategy folds it into data, base64-encoded.
      const stringData = objectAt(obj, "stringData");
      if (stringData !== undefined) {
        const data = ensureObject(obj, ["data"]);
        for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v), "utf8").toString("base64");
        delete obj["stringData"];
      }
      return;
    }
    case "apiextensions.k8s.io/CustomResourceDefinition":
      if (spec !== undefined) crdDefaults(spec);
      if (isObject(obj["status"]) && Object.keys(obj["status"]).length === 0) {
        const versions = Array.isArray(spec?.["versions"]) ? spec["versions"].filter(isObject) : [];
        const stored = versions.filter((v) => v["storage"] === true).map((v) => v["name"]);
        obj["status"] = { conditions: null, acceptedNames: { plural: "", kind: "" }, storedVersions: stored };
      }
      return;
  }
}

function templateDefaults(spec: JsonObject): void {
  const template = objectAt(spec, "template");
  if (template === undefined) return;
  ensureObject(template, ["metadata"])["creationTimestamp"] ??= null;
  const podSpec = objectAt(template, "spec");
  if (podSpec !== undefined) template["spec"] = podSpecDefaults(podSpec);
}

function podSpecDefaults(spec: JsonObject): JsonObject {
  for (const list of ["containers", "initContainers"]) {
    const containers = spec[list];
    if (Array.isArray(containers)) spec[list] = containers.map((c: unknown) => (isObject(c) ? containerDefaults(c) : c));
  }
  spec["restartPolicy"] ??= "Always";
  spec["terminationGracePeriodSeconds"] ??= 30;
  spec["dnsPolicy"] ??= "ClusterFirst";
  spec["securityContext"] ??= {};
  spec["schedulerName"] ??= "default-scheduler";
  return orderKeys(spec, podSpecOrder);
}

function containerDefaults(c: JsonObject): JsonObject {
  if (Array.isArray(c["ports"])) for (const p of c["ports"]) if (isObject(p)) p["protocol"] ??= "TCP";
  c["resources"] ??= {};
  c["terminationMessagePath"] ??= "/dev/termination-log";
  c["terminationMessagePolicy"] ??= "File";
  if (c["imagePullPolicy"] === undefined) {
    const image = typeof c["image"] === "string" ? c["image"] : "";
    const tag = /:([^:/@]+)$/.exec(image.split("@")[0] ?? "")?.[1];
    c["imagePullPolicy"] = tag === undefined || tag === "latest" ? "Always" : "IfNotPresent";
  }
  return orderKeys(c, containerOrder);
}

function jobDefaults(obj: JsonObject, spec: JsonObject, ctx: DefaultingContext): void {
  spec["parallelism"] ??= 1;
  spec["completions"] ??= 1;
  spec["backoffLimit"] ??= 6;
  spec["completionMode"] ??= "NonIndexed";
  spec["suspend"] ??= false;
  const name = objectAt(obj, "metadata")?.["name"];
  if (ctx.live === undefined && spec["manualSelector"] !== true && spec["selector"] === undefined) {
    const labels = { "controller-uid": ctx.uid, "job-name": name };
    spec["selector"] = { matchLabels: { "controller-uid": ctx.uid } };
    const template = ensureObject(spec, ["template"]);
    Object.assign(ensureObject(template, ["metadata", "labels"]), labels);
    const meta = ensureObject(obj, ["metadata"]);
    if (!isObject(meta["labels"])) meta["labels"] = { ...labels };
    ensureObject(obj, ["metadata", "annotations"])["batch.kubernetes.io/job-tracking"] = "";
  }
  templateDefaults(spec);
}

function serviceDefaults(spec: JsonObject, ctx: DefaultingContext): void {
  const liveSpec = objectAt(ctx.live, "spec");
  spec["type"] ??= "ClusterIP";
  spec["sessionAffinity"] ??= "None";
  const type = spec["type"];
  if (Array.isArray(spec["ports"])) {
    for (const p of spec["ports"]) {
      if (!isObject(p)) continue;
      p["protocol"] ??= "TCP";
      p["targetPort"] ??= p["port"];
      if ((type === "NodePort" || type === "LoadBalancer") && p["nodePort"] === undefined) {
        const old = Array.isArray(liveSpec?.["ports"]) ? liveSpec["ports"].find((o) => isObject(o) && o["port"] === p["port"]) : undefined;
        p["nodePort"] = isObject(old) && typeof old["nodePort"] === "number" ? old["nodePort"] : ctx.allocate.nodePort();
      }
    }
  }
  if (type !== "ExternalName") {
    spec["clusterIP"] ??= liveSpec?.["clusterIP"] ?? ctx.allocate.clusterIP();
    spec["clusterIPs"] ??= liveSpec?.["clusterIPs"] ?? [spec["clusterIP"]];
    spec["ipFamilies"] ??= ["IPv4"];
    spec["ipFamilyPolicy"] ??= "SingleStack";
    spec["internalTrafficPolicy"] ??= "Cluster";
  }
  if (type === "NodePort" || type === "LoadBalancer") spec["externalTrafficPolicy"] ??= "Cluster";
  if (type === "LoadBalancer") spec["allocateLoadBalancerNodePorts"] ??= true;
}

function crdDefaults(spec: JsonObject): void {
  const names = objectAt(spec, "names");
  if (names !== undefined && typeof names["kind"] === "string") {
    names["singular"] ??= names["kind"].toLowerCase();
    names["listKind"] ??= `${names["kind"]}List`;
  }
  spec["conversion"] ??= { strategy: "None" };
}

// Kinds whose strategy tracks metadata.generation (custom resources always do).
const generationKinds = new Set([
  "apps/deployments", "apps/replicasets", "apps/statefulsets", "apps/daemonsets", "batch/jobs", "batch/cronjobs",
  "networking.k8s.io/ingresses", "networking.k8s.io/ingressclasses", "networking.k8s.io/networkpolicies",
  "policy/poddisruptionbudgets", "apiextensions.k8s.io/customresourcedefinitions", "discovery.k8s.io/endpointslices",
  "admissionregistration.k8s.io/mutatingwebhookconfigurations", "admissionregistration.k8s.io/validatingwebhookconfigurations",
  "flowcontrol.apiserver.k8s.io/flowschemas", "flowcontrol.apiserver.k8s.io/prioritylevelconfigurations",
]);

/** True when objects of this resource carry metadata.generation. */
export function tracksGeneration(r: ResourceType): boolean {
  return r.crd !== undefined || generationKinds.has(`${r.group}/${r.resource}`);
}

/** The status a newly created object starts with; undefined leaves it out (custom resources). */
export function initialStatus(r: ResourceType): unknown {
  if (r.crd !== undefined) return undefined;
  switch (`${r.group}/${r.kind}`) {
    case "/Namespace":
      return { phase: "Active" };
    case "/Service":
    case "networking.k8s.io/Ingress":
      return { loadBalancer: {} };
    case "/PersistentVolumeClaim":
      return { phase: "Pending" };
    case "/Pod":
      return { phase: "Pending", qosClass: "BestEffort" };
    default:
      return {};
  }
}

/**
 * The empty object the API server compares a created object against: Go's zero value, which
 * carries struct fields (spec, status, pod templates) and null for a few non-omitempty lists.
 * It decides where Update entries get "." markers.
 */
export function zeroObject(r: ResourceType, hasSpec: boolean, hasStatus: boolean): JsonObject {
  if (r.crd !== undefined) return {};
  const zero: JsonObject = { metadata: { creationTimestamp: null } };
  if (hasSpec) zero["spec"] = zeroSpec(r);
  if (hasStatus) zero["status"] = {};
  return zero;
}

function zeroSpec(r: ResourceType): JsonObject {
  const podTemplate = () => ({ metadata: { creationTimestamp: null }, spec: { containers: null } });
  switch (`${r.group}/${r.kind}`) {
    case "apps/Deployment":
      return { selector: null, template: podTemplate(), strategy: {} };
    case "apps/ReplicaSet":
    case "batch/Job":
      return { selector: null, template: podTemplate() };
    case "apps/StatefulSet":
    case "apps/DaemonSet":
      return { selector: null, template: podTemplate(), updateStrategy: {} };
    case "batch/CronJob":
      return { schedule: "", jobTemplate: { metadata: { creationTimestamp: null }, spec: { template: podTemplate() } } };
    case "/Pod":
      return { containers: null };
    default:
      return {};
  }
}
