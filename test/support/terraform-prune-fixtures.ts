/** The repository both Terraform prune tests (push and pull) remove a stack from: its modules, policy and environments. */

/** Denies any delete of a terraform_data in the environment `guarded` only. */
export const noDeleteInGuarded = `apiVersion: policy.gitward.dev/v1alpha1
kind: Policy
metadata: { name: no-delete-in-guarded }
spec:
  match:
    resources:
      - { apiGroups: [terraform.gitward.dev], kinds: [terraform_data] }
    environments: [guarded]
  validations:
    - expression: "object.metadata.annotations['terraform.gitward.dev/action'] != 'delete'"
      messageExpression: "'deleting ' + object.metadata.name + ' is not allowed in guarded'"
`;

/** A stack whose destroy is observable: the destroy-time provisioner writes `<effects>/<environment>.destroyed`. */
export const goneModule = `terraform {
  backend "local" {}
}

variable "effects" {
  type = string
}

variable "GITWARD_ENVIRONMENT" {
  type = string
}

resource "terraform_data" "thing" {
  input = "\${var.effects}/\${var.GITWARD_ENVIRONMENT}.destroyed"

  provisioner "local-exec" {
    when    = destroy
    command = "printf destroyed > '\${self.input}'"
  }
}
`;

/** A stack that stays. */
export const netModule = `terraform {
  backend "local" {}
}

resource "terraform_data" "web" {
  input = "web"
}
`;

/** dev prunes, keep does not, guarded prunes but its policy denies the delete. */
export const environments = ["dev", "keep", "guarded"] as const;
