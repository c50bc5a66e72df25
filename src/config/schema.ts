import { z } from "zod";
import { isDuration } from "../core/duration.ts";

/** A name used as a map key: environments, stacks, targets. DNS-label-like so it fits labels and URLs. */
const name = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "must be a lowercase DNS label (a-z, 0-9, '-'; at most 63)");

/** Variable values: YAML scalars, kept as strings for substitution. */
const varValue = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));
const varName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be a variable name ([A-Za-z_][A-Za-z0-9_]*)");
const vars = z.record(varName, varValue).describe("Variables for ${var} substitution.");

/** A relative path inside the repository, checked again against the tree at each commit. */
const relPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith("/"), "must be relative to the directory of gitward.yaml")
  .refine((p) => !p.split("/").includes(".."), "must not contain '..'");

const kubernetesTarget = z.strictObject({
  provider: z.literal("kubernetes"),
  context: z.string().min(1).optional().describe("kubeconfig context the agent uses; credentials never live in Git."),
  namespace: z.string().min(1).optional().describe("Namespace for gitward's inventory; default gitward-system."),
  description: z.string().optional(),
});

/**
 * Where an argument array that gitward.yaml used to hold now goes: the repository names a
 * command, and whoever holds the target's credentials defines what the name runs.
 */
const inlineCommandMessage = (input: unknown): string =>
  `commands are not written in gitward.yaml any more: write a command name here (e.g. nginx-test) and define that name as ${JSON.stringify(input)} `
  + "under targets.<target>.commands in the agent configuration, or under <target>: in the --host-commands file of gitward apply (docs/host.md#commands)";

/** A command name a host target runs; the runner's configuration defines what it runs. */
const commandName = z
  .string({ error: (issue) => (Array.isArray(issue.input) ? inlineCommandMessage(issue.input) : undefined) })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "must be a command name (letters, digits, '.', '_', '-'; at most 63)")
  .describe("The name of a command defined by the runner (the agent configuration's targets.<target>.commands, or apply --host-commands); never an argument array.");

const healthCheck = z.strictObject({
  command: commandName,
  attempts: z.number().int().min(1).max(1000).default(10).describe("Tries before the change is rolled back."),
  intervalSeconds: z.number().min(0).max(3600).default(1).describe("Pause between tries."),
  timeoutSeconds: z.number().positive().max(3600).default(10).describe("Time limit of one try; the command's own timeoutSeconds, where the runner defines it, is a ceiling."),
});

/** An argument array where a union expects a name: refused with the migration message, not "expected string or object". */
const refuseInline = (value: unknown, ctx: z.core.$RefinementCtx): unknown => {
  if (Array.isArray(value)) {
    ctx.addIssue({ code: "custom", message: inlineCommandMessage(value), input: value });
    return z.NEVER;
  }
  return value;
};

const hostTarget = z.strictObject({
  provider: z.literal("host"),
  root: z.string().min(1).describe("Directory the files are written under (absolute, or relative to the working directory)."),
  check: commandName.optional().describe("Command name: run against the staged new tree before anything changes; a failure changes nothing."),
  reload: commandName.optional().describe("Command name: run after the files changed; a failure rolls the change back."),
  health: z.preprocess(refuseInline, z.union([commandName, healthCheck])).optional()
    .describe("Command name, or {command, attempts, intervalSeconds, timeoutSeconds}: run after reload until it succeeds; failing every try rolls the change back."),
  description: z.string().optional(),
});

const postgresTarget = z.strictObject({
  provider: z.literal("postgres"),
  connection: z.string().min(1).optional().describe("Name of the connection in the agent's configuration."),
  description: z.string().optional(),
});

/** An environment variable name: the runner (agent configuration or its environment) gives the value, never Git. */
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");

const terraformTarget = z.strictObject({
  provider: z.literal("terraform"),
  binary: z.string().min(1).default("terraform").describe("The terraform (or tofu) program: a name on PATH or a path."),
  backendConfig: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, "must be a backend setting name"), varValue).optional()
    .describe("Backend settings, each passed as -backend-config=key=value; no credentials here (they come from env)."),
  backendConfigFile: z.string().min(1).optional().describe("A backend configuration file on the runner, passed as -backend-config=FILE."),
  workspace: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,89}$/, "must be a Terraform workspace name").optional()
    .describe("Terraform workspace, selected (or created) before each plan."),
  env: z.array(envName).default([])
    .describe("Names of environment variables Terraform gets (provider and backend credentials); values come from the agent configuration's targets.<target>.env or the runner's environment."),
  description: z.string().optional(),
});

/** A place an environment deploys to, by provider. */
export const targetSchema = z.discriminatedUnion("provider", [kubernetesTarget, hostTarget, postgresTarget, terraformTarget]);

const syncPolicy = z.strictObject({
  auto: z.boolean().default(false).describe("Apply new revisions without a manual trigger."),
  prune: z.boolean().default(true).describe("Delete objects that Git no longer has."),
  selfHeal: z.boolean().default(false).describe("Correct drift made outside Git."),
  wait: z.boolean().optional().describe("The agent holds a worker until each synced stack is healthy (or the timeout), instead of following health in the background. Default false."),
  timeout: z.string().refine(isDuration, "must be a duration such as 90s, 5m or 1h30m").optional()
    .describe("How long health is awaited or followed after a sync (e.g. 5m); default the agent's healthTimeout."),
});

const approvals = z.strictObject({
  required: z.number().int().min(0).max(50).default(0).describe("Approvals each pull request needs before its change is applied here; 0 turns the gate off."),
  from: z.array(name).default([]).describe("Groups (defined under groups:) whose members' approvals count."),
});

/** A forge username: letters, digits, `-`, `_`, `.` (GitHub, GitLab and Gitea all fit). */
const username = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, "must be a forge username");

/** A group of approvers: forge usernames, or a forge team resolved through the forge's API when the gate runs. */
const group = z.union([
  z.array(username).min(1),
  z.strictObject({
    team: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)+$/, "must be org/team (GitHub, Gitea) or a group path (GitLab)")
      .describe("GitHub org/team-slug, Gitea org/team-name, GitLab group/subgroup path."),
  }),
]);
/** A group of approvers as gitward.yaml defines it. */
export type ApproverGroup = z.output<typeof group>;

/** A public SOPS recipient: an age recipient (`age1…`, bech32) or a PGP key's 40-hex-digit fingerprint. Never a private key. */
const sopsRecipient = z.string().regex(/^(age1(pq1)?[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{50,}|[0-9A-Fa-f]{40})$/,
  "must be a public age recipient (age1…) or a PGP fingerprint (40 hex digits)");

const sopsPolicy = z.strictObject({
  recipients: z.array(sopsRecipient).min(1)
    .describe("Public recipients this environment's SOPS files must be encrypted for (at least one of them), and the only ones allowed."),
});

const environment = z.strictObject({
  description: z.string().optional(),
  promoteFrom: name.optional().describe("The environment a revision must reach before this one."),
  vars: vars.default({}),
  targets: z.record(name, targetSchema).default({}),
  sync: syncPolicy.default({ auto: false, prune: true, selfHeal: false }),
  approvals: approvals.optional(),
  sops: sopsPolicy.optional().describe("Checks of SOPS-encrypted files deployed here, without any key (docs/checks.md#sops)."),
});

const stackEnvironment = z.strictObject({
  enabled: z.boolean().default(true).describe("false: this stack is not deployed to this environment."),
  path: relPath.optional().describe("Directory used in this environment instead of the stack's path."),
  namespace: z.string().min(1).optional(),
  vars: vars.default({}),
});

const stack = z.strictObject({
  description: z.string().optional(),
  target: name.describe("Target name; every environment that deploys the stack must define it."),
  path: relPath.describe("Directory of manifests or a kustomization, relative to gitward.yaml."),
  namespace: z.string().min(1).optional().describe("Default namespace for namespaced objects without one."),
  vars: vars.default({}),
  substitute: z
    .union([z.boolean(), z.literal("strict", { error: 'expected true, false or "strict"' })])
    .default(true)
    .describe("${var} substitution: true (gitward's variables; other ${...} in multi-line text are left as written), strict (every ${...} is gitward's), false (off)."),
  forceConflicts: z.boolean().default(false).describe("Take over fields another applier owns (hand edits are taken back without it), and objects of another stack, when applying (as --force-conflicts)."),
  dependsOn: z.array(name).default([]),
  environments: z.record(name, stackEnvironment).default({}),
});

const signatures = z.strictObject({
  required: z.boolean().default(false),
  format: z.enum(["ssh", "gpg"]).default("ssh"),
});

const enforcement = z.enum(["deny", "warn"]);

const builtinPolicyObject = z.strictObject({
  name: z.string().min(1).describe("A built-in policy, see docs/policies.md."),
  enforcement: enforcement.optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  environments: z.record(name, z.strictObject({ enforcement })).optional().describe("Per-environment enforcement."),
});
/** A built-in policy turned on in gitward.yaml. */
export type BuiltinPolicy = z.output<typeof builtinPolicyObject>;

const policiesObject = z.strictObject({
  path: relPath.optional().describe("Directory of policy documents, relative to gitward.yaml."),
  builtin: z
    .array(z.union([z.string().min(1).transform((n): BuiltinPolicy => ({ name: n })), builtinPolicyObject]))
    .default([])
    .describe("Built-in policies to enable, by name or with options."),
});

const limit = z.number().int().positive();

/**
 * Render limits the repository asks for. They can only lower the limits of whoever runs
 * gitward (a repository cannot make the runner hold more), see docs/configuration.md.
 */
const limitsObject = z.strictObject({
  maxObjectsPerFile: limit.optional().describe("Most objects one manifest file may give (kind: List items count one each)."),
  maxObjectsPerStack: limit.optional().describe("Most objects one stack instance may render."),
  maxObjectsPerRevision: limit.optional().describe("Most objects all the stack instances of one revision may render together."),
  maxBytesPerRevision: limit.optional().describe("Most bytes of manifests (files read, kustomize output) one revision may parse."),
});
/** The `limits` section of gitward.yaml. */
export type RepositoryLimits = z.output<typeof limitsObject>;

/** Text with `${pr}`, `${branch}` and `${sha}` of the pull request a preview deploys. */
const previewTemplate = z.string().min(1);

/**
 * Preview environments: one ephemeral environment per open pull request, derived from a
 * template environment (docs/previews.md). Names and values may use `${pr}`, `${branch}`
 * (a DNS label) and `${sha}` (12 hex digits).
 */
const previewsObject = z.strictObject({
  from: name.describe("The template environment: its targets, vars and stacks; its credentials are never used."),
  labels: z.array(z.string().min(1)).optional().describe("Only pull requests carrying one of these labels get a preview; default every open pull request."),
  ttl: z.string().refine(isDuration, "must be a duration such as 90s, 5m or 72h").optional()
    .describe("A preview is destroyed this long after its last push, even while its pull request is open."),
  name: previewTemplate.default("preview-${pr}").describe("The preview environment's name; must contain ${pr} and give a DNS label."),
  namespace: previewTemplate.optional().describe("Every namespaced object of the preview's kubernetes stacks goes to this namespace."),
  url: previewTemplate.optional().describe("The preview's address, commented on the pull request."),
  vars: z.record(varName, z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v))).default({})
    .describe("Variables over the template environment's; ${pr}, ${branch} and ${sha} are expanded in their values."),
  stacks: z.array(name).optional().describe("The stacks a preview deploys; default every stack the template environment deploys."),
});
/** The `previews` section of gitward.yaml. */
export type PreviewsSpec = z.output<typeof previewsObject>;

/** The gitward.yaml schema, version 1. Unknown keys are errors everywhere. */
export const configSchema = z.strictObject({
  version: z.literal(1),
  environments: z.record(name, environment).refine((e) => Object.keys(e).length > 0, "define at least one environment"),
  stacks: z.record(name, stack).default({}),
  policies: z
    .union([relPath.transform((path) => ({ path, builtin: [] as BuiltinPolicy[] })), policiesObject])
    .optional()
    .describe("CEL policies: a directory, or {path, builtin}."),
  render: z
    .strictObject({ allowRemoteBases: z.boolean().default(false).describe("Allow kustomize bases fetched over the network.") })
    .default({ allowRemoteBases: false }),
  verification: z.strictObject({ signatures: signatures.optional() }).optional(),
  groups: z.record(name, group).default({}).describe("Approver groups that environments' approvals.from name: a list of forge usernames, or {team: org/team}."),
  limits: limitsObject.optional().describe("Lower the render limits for this repository; they cannot be raised here."),
  previews: previewsObject.optional().describe("Preview environments: one per open pull request, from a template environment (docs/previews.md)."),
});

/** A parsed and defaulted gitward.yaml. */
export type Config = z.output<typeof configSchema>;
/** A target definition. */
export type TargetSpec = z.output<typeof targetSchema>;
/** A stack definition. */
export type StackSpec = Config["stacks"][string];
/** An environment definition. */
export type EnvironmentSpec = Config["environments"][string];
