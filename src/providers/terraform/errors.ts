import { ErrorCode, GitwardError } from "../../core/errors.ts";

/** Where a Terraform error happened: the stack instance and its root module. */
export interface TerraformErrorSubject {
  readonly environment: string;
  readonly stack: string;
  readonly moduleDir: string;
}

/**
 * A Terraform command that failed. The message names the stack instance, its module, the
 * command and Terraform's own reason (its error diagnostics, masked).
 */
export class TerraformError extends GitwardError {
  readonly operation: string;
  /** Terraform's error diagnostics (`summary: detail`), masked. */
  readonly diagnostics: readonly string[];

  constructor(subject: TerraformErrorSubject, operation: string, diagnostics: readonly string[], options: { readonly hint?: string } = {}) {
    const reason = diagnostics.length === 0 ? "no reason given" : diagnostics.join("; ");
    super(ErrorCode.Tool, `terraform stack ${subject.environment}/${subject.stack} (module ${subject.moduleDir}): ${operation} failed: ${reason}`, options);
    this.name = "TerraformError";
    this.operation = operation;
    this.diagnostics = diagnostics;
  }
}

/**
 * The state changed after the plan was made (Terraform's "Saved plan is stale"): the plan can
 * no longer be applied. The caller re-plans, re-checks and re-gates.
 */
export class StalePlanError extends TerraformError {
  readonly planFile: string;

  constructor(subject: TerraformErrorSubject, planFile: string, diagnostics: readonly string[]) {
    super(subject, "apply", diagnostics, { hint: "plan again: the state changed since this plan was made" });
    this.name = "StalePlanError";
    this.planFile = planFile;
  }
}
