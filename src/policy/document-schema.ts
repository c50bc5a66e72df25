import { z } from "zod";

/** The apiVersion and kind of a policy document. */
export const POLICY_API_VERSION = "policy.gitward.dev/v1alpha1";
export const POLICY_KIND = "Policy";

const dnsLabel = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be lowercase letters, digits and '-', starting and ending with a letter or digit");

const enforcement = z.enum(["deny", "warn"]);

const resourceRule = z.strictObject({
  apiGroups: z.array(z.string()).min(1).default(["*"]),
  kinds: z.array(z.string().min(1)).min(1),
});

const selectorRequirement = z
  .strictObject({
    key: z.string().min(1),
    operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]),
    values: z.array(z.string()).optional(),
  })
  .superRefine((req, ctx) => {
    const needsValues = req.operator === "In" || req.operator === "NotIn";
    if (needsValues && (req.values === undefined || req.values.length === 0)) {
      ctx.addIssue({ code: "custom", path: ["values"], message: `operator ${req.operator} needs at least one value` });
    }
    if (!needsValues && req.values !== undefined && req.values.length > 0) {
      ctx.addIssue({ code: "custom", path: ["values"], message: `operator ${req.operator} takes no values` });
    }
  });

const labelSelector = z.strictObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z.array(selectorRequirement).optional(),
});

const match = z.strictObject({
  resources: z.array(resourceRule).min(1).optional(),
  namespaces: z.array(z.string().min(1)).min(1).optional(),
  labelSelector: labelSelector.optional(),
  environments: z.array(z.string().min(1)).min(1).optional(),
  stacks: z.array(z.string().min(1)).min(1).optional(),
});

const validation = z.strictObject({
  expression: z.string().trim().min(1),
  message: z.string().min(1).optional(),
  messageExpression: z.string().trim().min(1).optional(),
});

const spec = z.strictObject({
  description: z.string().optional(),
  enforcement: enforcement.default("deny"),
  environments: z.record(z.string().min(1), z.strictObject({ enforcement })).default({}),
  match: match.default({}),
  validations: z.array(validation).min(1),
});

/** A policy document as written in the repository (ValidatingAdmissionPolicy in spirit). */
export const policyDocumentSchema = z.strictObject({
  apiVersion: z.literal(POLICY_API_VERSION),
  kind: z.literal(POLICY_KIND),
  metadata: z.strictObject({
    name: dnsLabel,
    labels: z.record(z.string(), z.string()).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  spec,
});

/** A validated policy document with defaults applied. */
export type PolicyDocument = z.output<typeof policyDocumentSchema>;
/** The `spec.match` of a policy document. */
export type PolicyMatch = PolicyDocument["spec"]["match"];
/** A label selector with Kubernetes semantics. */
export type LabelSelector = NonNullable<PolicyMatch["labelSelector"]>;
