/**
 * The objects gitward makes for Terraform stacks, shared by rendering (the Module object of a
 * stack) and the Terraform provider (which plans it): their group, version and shapes.
 */

/** The API group of the objects gitward makes for Terraform: the module of a stack and each planned resource change. */
export const terraformGroup = "terraform.gitward.dev";
/** The apiVersion of those objects. */
export const terraformApiVersion = `${terraformGroup}/v1alpha1`;
/** The kind of the one object a Terraform stack renders to. */
export const moduleKind = "Module";

/** One file of a root module as the Module object carries it. */
export interface ModuleFile {
  /** Relative to the module directory, forward slashes. */
  readonly path: string;
  /** True for an executable file (a local-exec script). */
  readonly executable?: boolean;
  /** UTF-8 text, or base64 when `base64` is set. */
  readonly content: string;
  readonly base64?: boolean;
}

/** The spec of a Module object: everything the Terraform target needs to plan the stack, nothing that belongs to the runner. */
export interface ModuleSpec {
  /** The module directory in the repository, for messages. */
  readonly path: string;
  /** Digest of the files (paths and blob ids): changes when the module changes. */
  readonly filesHash: string;
  readonly files: readonly ModuleFile[];
  /** The stack instance's variables (GITWARD_* included): the generated gitward.auto.tfvars.json. */
  readonly vars: Readonly<Record<string, string>>;
}
