/**
 * The manifests of one generated benchmark stack: a small service of four components,
 * each a Deployment, Service, ConfigMap and ServiceAccount, plus a shared ConfigMap,
 * Role, RoleBinding and HorizontalPodAutoscaler: 20 objects in 5 files. Content is a pure
 * function of the stack's index, so every run generates the same bytes.
 */

/** Objects in every generated stack. */
export const OBJECTS_PER_STACK = 20;

/** Component names, four of which are picked per stack, rotating with the index. */
const componentNames = ["api", "worker", "web", "gateway", "scheduler", "indexer"] as const;
const memorySizes = ["128Mi", "256Mi", "384Mi", "512Mi"] as const;

/** What is known about one generated stack. */
export interface StackSpec {
  readonly index: number;
  /** Stack name, also its namespace: `svc-001`. */
  readonly name: string;
  readonly components: readonly string[];
}

/** The name and components of the stack at a (zero-based) index. */
export function stackSpec(index: number): StackSpec {
  const name = `svc-${String(index + 1).padStart(3, "0")}`;
  const components = [0, 1, 2, 3].map((k) => componentNames[(index + k) % componentNames.length] ?? "api");
  return { index, name, components };
}

/** File name -> content for the stack's directory (plain YAML, several documents per file). */
export function stackFiles(spec: StackSpec): Record<string, string> {
  const files: Record<string, string> = {
    "deployments.yaml": spec.components.map((c, k) => deployment(spec, c, k)).join("---\n"),
    "services.yaml": spec.components.map((c, k) => service(spec, c, k)).join("---\n"),
    "configmaps.yaml": [...spec.components.map((c) => componentConfig(spec, c)), sharedConfig(spec)].join("---\n"),
    "rbac.yaml": [...spec.components.map((c) => serviceAccount(spec, c)), role(spec), roleBinding(spec)].join("---\n"),
    "hpa.yaml": autoscaler(spec),
  };
  // Not a manifest: the plain renderer must skip it.
  if (spec.index % 5 === 0) files["README.md"] = `# ${spec.name}\n\nOwned by the team in gitward.yaml.\n`;
  return files;
}

function labels(spec: StackSpec, component: string, indent: string): string {
  return [
    `app.kubernetes.io/name: ${component}`,
    `app.kubernetes.io/part-of: ${spec.name}`,
    "app.kubernetes.io/managed-by: gitward",
    "team: ${team}",
  ].map((l) => `${indent}${l}\n`).join("");
}

function port(spec: StackSpec, k: number): number {
  return 8080 + ((spec.index * 7 + k) % 20);
}

function deployment(spec: StackSpec, component: string, k: number): string {
  const memory = memorySizes[(spec.index + k) % memorySizes.length] ?? "128Mi";
  // A letter first: kustomize (go-yaml) writes a digits-e-digits string such as 00009e395456
  // unquoted, and a YAML 1.2 reader then sees an overflowing float (Infinity).
  const checksum = `sha-${((spec.index + 1) * 2654435761 + k * 40503).toString(16).padStart(12, "0").slice(-12)}`;
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${component}
  labels:
${labels(spec, component, "    ")}spec:
  replicas: \${replicas}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      app.kubernetes.io/name: ${component}
  strategy:
    type: RollingUpdate
    rollingUpdate: { maxSurge: 1, maxUnavailable: 0 }
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ${component}
        app.kubernetes.io/part-of: ${spec.name}
      annotations:
        checksum/config: "${checksum}"
    spec:
      serviceAccountName: ${component}
      securityContext: { runAsNonRoot: true, runAsUser: 10001, fsGroup: 10001 }
      terminationGracePeriodSeconds: 30
      containers:
        - name: ${component}
          image: \${imageRegistry}/${spec.name}/${component}:\${version}
          imagePullPolicy: IfNotPresent
          args: ["--log-level=\${logLevel}", "--port=${port(spec, k)}"]
          ports:
            - { name: http, containerPort: ${port(spec, k)}, protocol: TCP }
            - { name: metrics, containerPort: 9090, protocol: TCP }
          env:
            - name: PUBLIC_URL
              value: https://${component}.${spec.name}.\${domain}
            - name: ENVIRONMENT
              value: \${GITWARD_ENVIRONMENT}
            - name: POD_NAME
              valueFrom: { fieldRef: { fieldPath: metadata.name } }
          envFrom:
            - configMapRef: { name: ${component}-config }
          resources:
            requests:
              cpu: \${cpuRequest:=100m}
              memory: ${memory}
            limits:
              cpu: "1"
              memory: ${memory}
          readinessProbe:
            httpGet: { path: /readyz, port: http }
            initialDelaySeconds: 5
            periodSeconds: 10
          livenessProbe:
            httpGet: { path: /healthz, port: http }
            periodSeconds: 20
            failureThreshold: 3
          volumeMounts:
            - { name: config, mountPath: /etc/${component}, readOnly: true }
            - { name: tmp, mountPath: /tmp }
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
      volumes:
        - name: config
          configMap: { name: ${component}-config }
        - name: tmp
          emptyDir: {}
`;
}

function service(spec: StackSpec, component: string, k: number): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${component}
  labels:
${labels(spec, component, "    ")}  annotations:
    external-dns.alpha.kubernetes.io/hostname: ${component}.${spec.name}.\${domain}
spec:
  type: ClusterIP
  selector:
    app.kubernetes.io/name: ${component}
  ports:
    - name: http
      port: 80
      targetPort: ${port(spec, k)}
      protocol: TCP
    - name: metrics
      port: 9090
      targetPort: metrics
      protocol: TCP
`;
}

function componentConfig(spec: StackSpec, component: string): string {
  return `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${component}-config
  labels:
${labels(spec, component, "    ")}data:
  LOG_LEVEL: \${logLevel}
  LOG_FORMAT: json
  MAX_CONNECTIONS: "${100 + (spec.index % 50) * 4}"
  UPSTREAM_TIMEOUT: 30s
  config.yaml: |
    server:
      name: ${spec.name}-${component}
      publicUrl: https://${component}.${spec.name}.\${domain}
      shutdownTimeout: 25s
    logging:
      level: \${logLevel}
      format: json
    cache:
      ttl: 5m
      size: ${1000 + spec.index}
    features:
      tracing: true
      compression: ${spec.index % 2 === 0 ? "gzip" : "zstd"}
`;
}

function sharedConfig(spec: StackSpec): string {
  return `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${spec.name}-settings
  labels:
    app.kubernetes.io/part-of: ${spec.name}
    team: \${team}
data:
  STACK: \${GITWARD_STACK}
  REGION: \${region:=eu-west-1}
  entrypoint.sh: |
    #!/bin/sh
    # $\${HOME} is left for the shell: an escaped variable.
    exec /app/${spec.components[0] ?? "api"} --home "$\${HOME}" --stack \${GITWARD_STACK}
`;
}

function serviceAccount(spec: StackSpec, component: string): string {
  return `apiVersion: v1
kind: ServiceAccount
metadata:
  name: ${component}
  labels:
${labels(spec, component, "    ")}automountServiceAccountToken: ${component === spec.components[0] ? "true" : "false"}
`;
}

function role(spec: StackSpec): string {
  return `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: ${spec.name}-reader
  labels:
    app.kubernetes.io/part-of: ${spec.name}
rules:
  - apiGroups: [""]
    resources: [configmaps, services, endpoints]
    verbs: [get, list, watch]
  - apiGroups: [coordination.k8s.io]
    resources: [leases]
    verbs: [get, create, update]
`;
}

function roleBinding(spec: StackSpec): string {
  const subjects = spec.components.map((c) => `  - kind: ServiceAccount\n    name: ${c}\n    namespace: ${spec.name}\n`).join("");
  return `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: ${spec.name}-reader
  labels:
    app.kubernetes.io/part-of: ${spec.name}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: ${spec.name}-reader
subjects:
${subjects}`;
}

function autoscaler(spec: StackSpec): string {
  const target = spec.components[0] ?? "api";
  return `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: ${target}
  labels:
${labels(spec, target, "    ")}spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: ${target}
  minReplicas: \${replicas}
  maxReplicas: ${4 + (spec.index % 8)}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target: { type: Utilization, averageUtilization: 70 }
`;
}
