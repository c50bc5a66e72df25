import { z } from "zod";

/** A built-in policy: a policy document embedded in gitward, enabled by name in gitward.yaml. */
export interface BuiltinPolicy {
  readonly name: string;
  /** The policy document, in the same format as repository policies (`params` is declared). */
  readonly document: string;
  /** Validates and defaults `params` from gitward.yaml; strict, so unknown params are errors. */
  readonly params: z.ZodType<Readonly<Record<string, unknown>>>;
}

const noParams = z.strictObject({});

const WORKLOADS = `
      - { apiGroups: [""], kinds: [Pod, PodTemplate, ReplicationController] }
      - { apiGroups: [apps], kinds: [Deployment, StatefulSet, DaemonSet, ReplicaSet] }
      - { apiGroups: [batch], kinds: [Job, CronJob] }`;

const containerName = "(has(c.name) ? c.name : '?')";

/** Builds a document whose one validation holds when `ok(c)` holds for every container. */
function perContainer(name: string, description: string, ok: string, what: string, detail: string): string {
  return `apiVersion: policy.gitward.dev/v1alpha1
kind: Policy
metadata: { name: ${name} }
spec:
  description: ${JSON.stringify(description)}
  match:
    resources:${WORKLOADS}
  validations:
    - expression: ${JSON.stringify(`gitward.containers(object).all(c, ${ok})`)}
      messageExpression: ${JSON.stringify(`'${what}: ' + gitward.containers(object).filter(c, !(${ok})).map(c, ${containerName} + ${detail}).join(', ')`)}
`;
}

function podSpecRule(name: string, description: string, expression: string, messageExpression: string): string {
  return `apiVersion: policy.gitward.dev/v1alpha1
kind: Policy
metadata: { name: ${name} }
spec:
  description: ${JSON.stringify(description)}
  match:
    resources:${WORKLOADS}
  validations:
    - expression: ${JSON.stringify(expression)}
      messageExpression: ${JSON.stringify(messageExpression)}
`;
}

const pinnedImage =
  "has(c.image) && (c.image.contains('@') || (c.image.substring(c.image.lastIndexOf('/') + 1).contains(':') && !c.image.endsWith(':latest')))";

const resourceKeys = "[['requests', 'cpu'], ['requests', 'memory'], ['limits', 'cpu'], ['limits', 'memory']]";
const resourceSet = "(has(c.resources) && p[0] in c.resources && p[1] in c.resources[p[0]])";

const capsAllowed =
  "!has(c.securityContext) || !has(c.securityContext.capabilities) || !has(c.securityContext.capabilities.add) || c.securityContext.capabilities.add.all(cap, cap in params.allow)";

const hostNamespaces = "['hostNetwork', 'hostPID', 'hostIPC']";
const volumes = "gitward.podSpec(object).volumes";

const labelSet = "has(object.metadata.labels) && l in object.metadata.labels && object.metadata.labels[l] != ''";

const documents: Readonly<Record<string, string>> = {
  "no-latest-image": perContainer(
    "no-latest-image",
    "Container images name a tag other than latest, or a digest.",
    pinnedImage,
    "images must be pinned to a tag other than latest, or to a digest",
    "' (' + (has(c.image) ? c.image : 'no image') + ')'",
  ),
  "resources-required": perContainer(
    "resources-required",
    "Every container sets CPU and memory requests and limits.",
    `${resourceKeys}.all(p, ${resourceSet})`,
    "containers must set CPU and memory requests and limits",
    `' lacks ' + ${resourceKeys}.filter(p, !${resourceSet}).map(p, p[0] + '.' + p[1]).join(' ')`,
  ),
  "no-privileged": perContainer(
    "no-privileged",
    "No container runs privileged.",
    "!has(c.securityContext) || !has(c.securityContext.privileged) || c.securityContext.privileged != true",
    "containers must not run privileged",
    "''",
  ),
  "no-added-capabilities": perContainer(
    "no-added-capabilities",
    "No container adds Linux capabilities beyond params.allow.",
    capsAllowed,
    "containers must not add capabilities",
    "' adds ' + c.securityContext.capabilities.add.filter(cap, !(cap in params.allow)).join(' ')",
  ),
  "no-host-path": podSpecRule(
    "no-host-path",
    "Pods mount no hostPath volumes.",
    `!has(${volumes}) || ${volumes}.all(v, !has(v.hostPath))`,
    `'hostPath volumes are not allowed: ' + ${volumes}.filter(v, has(v.hostPath)).map(v, (has(v.name) ? v.name : '?')).join(', ')`,
  ),
  "no-host-namespaces": podSpecRule(
    "no-host-namespaces",
    "Pods do not share the host's network, PID or IPC namespace.",
    `${hostNamespaces}.all(k, !(k in gitward.podSpec(object)) || gitward.podSpec(object)[k] != true)`,
    `'pods must not share host namespaces: ' + ${hostNamespaces}.filter(k, k in gitward.podSpec(object) && gitward.podSpec(object)[k] == true).join(', ')`,
  ),
  "required-labels": `apiVersion: policy.gitward.dev/v1alpha1
kind: Policy
metadata: { name: required-labels }
spec:
  description: "Every object carries the labels named in params.labels, with a value."
  validations:
    - expression: ${JSON.stringify(`params.labels.all(l, ${labelSet})`)}
      messageExpression: ${JSON.stringify(`'missing required labels: ' + params.labels.filter(l, !(${labelSet})).join(', ')`)}
`,
  "no-external-services": `apiVersion: policy.gitward.dev/v1alpha1
kind: Policy
metadata: { name: no-external-services }
spec:
  description: Services are not exposed outside the cluster as LoadBalancer or NodePort.
  enforcement: warn
  match:
    resources:
      - { apiGroups: [""], kinds: [Service] }
  validations:
    - expression: "!has(object.spec) || !has(object.spec.type) || !(object.spec.type in ['LoadBalancer', 'NodePort'])"
      messageExpression: "'Service type ' + string(object.spec.type) + ' exposes it outside the cluster; prefer an Ingress or a Gateway'"
`,
  "secrets-encrypted": `apiVersion: policy.gitward.dev/v1alpha1
kind: Policy
metadata: { name: secrets-encrypted }
spec:
  description: Secrets with data are committed SOPS-encrypted.
  match:
    resources:
      - { apiGroups: [""], kinds: [Secret] }
  validations:
    - expression: "!((has(object.data) && size(object.data) > 0) || (has(object.stringData) && size(object.stringData) > 0)) || has(object.sops)"
      message: "Secret has data but is not SOPS-encrypted (no sops section); encrypt it with sops before committing"
`,
};

/** The action of a planned Terraform change, or '' for objects that are not one (the Module). */
const tfAction = "(has(object.metadata.annotations) && 'terraform.gitward.dev/action' in object.metadata.annotations ? object.metadata.annotations['terraform.gitward.dev/action'] : '')";
const tfProtected = "(object.metadata.name in params.addresses || ['tags', 'tags_all', 'labels'].exists(f, f in object.spec && type(object.spec[f]) == map && params.keys.exists(k, k in object.spec[f] && string(object.spec[f][k]) == 'true')))";

/** Policies on planned Terraform changes (objects of group terraform.gitward.dev, see docs/terraform.md). */
const terraformDocuments: Readonly<Record<string, string>> = {
  "terraform-no-destroy-protected": `apiVersion: policy.gitward.dev/v1alpha1
kind: Policy
metadata: { name: terraform-no-destroy-protected }
spec:
  description: "No planned delete or replace of a Terraform resource marked protected: tagged (tags, tags_all or labels) with a params.keys key set to true, or listed in params.addresses."
  match:
    resources:
      - { apiGroups: [terraform.gitward.dev], kinds: ["*"] }
  validations:
    - expression: ${JSON.stringify(`!(${tfAction} in ['delete', 'replace']) || !${tfProtected}`)}
      messageExpression: ${JSON.stringify(`'the plan would ' + ${tfAction} + ' ' + object.metadata.name + ', which is protected'`)}
`,
  "terraform-replace-needs-exemption": `apiVersion: policy.gitward.dev/v1alpha1
kind: Policy
metadata: { name: terraform-replace-needs-exemption }
spec:
  description: "A planned replace (destroy and re-create) of a Terraform resource is refused unless its address is in params.allow."
  match:
    resources:
      - { apiGroups: [terraform.gitward.dev], kinds: ["*"] }
  validations:
    - expression: ${JSON.stringify(`${tfAction} != 'replace' || object.metadata.name in params.allow`)}
      messageExpression: ${JSON.stringify(`'the plan would replace ' + object.metadata.name + (has(object.metadata.annotations) && 'terraform.gitward.dev/replace-reason' in object.metadata.annotations ? ' (' + object.metadata.annotations['terraform.gitward.dev/replace-reason'] + ')' : '') + '; add its address to params.allow of terraform-replace-needs-exemption to let it through'`)}
`,
};

const paramSchemas: Readonly<Record<string, z.ZodType<Readonly<Record<string, unknown>>>>> = {
  "terraform-no-destroy-protected": z.strictObject({
    addresses: z.array(z.string().min(1)).default([]),
    keys: z.array(z.string().min(1)).default(["protected", "gitward-protected"]),
  }),
  "terraform-replace-needs-exemption": z.strictObject({ allow: z.array(z.string().min(1)).default([]) }),
  "required-labels": z.strictObject({ labels: z.array(z.string().min(1)).min(1) }),
  "no-added-capabilities": z.strictObject({ allow: z.array(z.string().min(1)).default([]) }),
};

/** The built-in policies by name. */
export function builtinPolicies(): ReadonlyMap<string, BuiltinPolicy> {
  return new Map(
    Object.entries({ ...documents, ...terraformDocuments }).map(([name, document]) => [name, { name, document, params: paramSchemas[name] ?? noParams }]),
  );
}
