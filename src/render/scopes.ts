/**
 * Which kinds live in a namespace. Rendering needs this to default `metadata.namespace` only on
 * namespaced objects; a cluster's discovery answers it exactly, the built-in table answers it
 * offline for the kinds every Kubernetes cluster serves.
 */

/** Something that knows whether a kind is namespaced: undefined when it does not know the kind. */
export interface ScopeResolver {
  isNamespaced(group: string, kind: string): boolean | undefined;
}

interface ScopeTable {
  readonly namespaced: readonly string[];
  readonly cluster: readonly string[];
}

// Taken from the discovery documents of a v1.24 API server (every served group version,
// subresources left out), plus the few built-in kinds added since, marked below.
const builtinTable: Readonly<Record<string, ScopeTable>> = {
  "": {
    namespaced: [
      "Binding", "ConfigMap", "Endpoints", "Event", "LimitRange", "PersistentVolumeClaim", "Pod",
      "PodTemplate", "ReplicationController", "ResourceQuota", "Secret", "Service", "ServiceAccount",
    ],
    cluster: ["ComponentStatus", "Namespace", "Node", "PersistentVolume"],
  },
  "admissionregistration.k8s.io": {
    namespaced: [],
    cluster: [
      "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
      // Since 1.26 and 1.32.
      "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
      "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding",
    ],
  },
  "apiextensions.k8s.io": { namespaced: [], cluster: ["CustomResourceDefinition"] },
  "apiregistration.k8s.io": { namespaced: [], cluster: ["APIService"] },
  apps: {
    namespaced: ["ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"],
    cluster: [],
  },
  "authentication.k8s.io": { namespaced: [], cluster: ["TokenReview", "SelfSubjectReview"] },
  "authorization.k8s.io": {
    namespaced: ["LocalSubjectAccessReview"],
    cluster: ["SelfSubjectAccessReview", "SelfSubjectRulesReview", "SubjectAccessReview"],
  },
  autoscaling: { namespaced: ["HorizontalPodAutoscaler"], cluster: [] },
  batch: { namespaced: ["CronJob", "Job"], cluster: [] },
  // ClusterTrustBundle since 1.27.
  "certificates.k8s.io": { namespaced: [], cluster: ["CertificateSigningRequest", "ClusterTrustBundle"] },
  "coordination.k8s.io": { namespaced: ["Lease"], cluster: [] },
  "discovery.k8s.io": { namespaced: ["EndpointSlice"], cluster: [] },
  "events.k8s.io": { namespaced: ["Event"], cluster: [] },
  "flowcontrol.apiserver.k8s.io": { namespaced: [], cluster: ["FlowSchema", "PriorityLevelConfiguration"] },
  "networking.k8s.io": {
    namespaced: ["Ingress", "NetworkPolicy"],
    // IPAddress and ServiceCIDR since 1.27.
    cluster: ["IngressClass", "IPAddress", "ServiceCIDR"],
  },
  "node.k8s.io": { namespaced: [], cluster: ["RuntimeClass"] },
  policy: { namespaced: ["PodDisruptionBudget"], cluster: ["PodSecurityPolicy"] },
  "rbac.authorization.k8s.io": { namespaced: ["Role", "RoleBinding"], cluster: ["ClusterRole", "ClusterRoleBinding"] },
  // Dynamic resource allocation, since 1.26.
  "resource.k8s.io": { namespaced: ["ResourceClaim", "ResourceClaimTemplate"], cluster: ["DeviceClass", "ResourceSlice"] },
  "scheduling.k8s.io": { namespaced: [], cluster: ["PriorityClass"] },
  "storage.k8s.io": {
    namespaced: ["CSIStorageCapacity"],
    // VolumeAttributesClass since 1.29.
    cluster: ["CSIDriver", "CSINode", "StorageClass", "VolumeAttachment", "VolumeAttributesClass"],
  },
};

/** A resolver answering from built-in knowledge of the core Kubernetes kinds; undefined for any other kind. */
export function builtinScopes(): ScopeResolver {
  return {
    isNamespaced(group: string, kind: string): boolean | undefined {
      const table = Object.hasOwn(builtinTable, group) ? builtinTable[group] : undefined;
      if (table === undefined) return undefined;
      if (table.namespaced.includes(kind)) return true;
      if (table.cluster.includes(kind)) return false;
      return undefined;
    },
  };
}

/** A resolver that asks each of `resolvers` in turn and returns the first defined answer. */
export function chainScopes(...resolvers: readonly ScopeResolver[]): ScopeResolver {
  return {
    isNamespaced(group: string, kind: string): boolean | undefined {
      for (const resolver of resolvers) {
        const answer = resolver.isNamespaced(group, kind);
        if (answer !== undefined) return answer;
      }
      return undefined;
    },
  };
}
