/** A Terraform stack `db` whose outputs (one sensitive) feed host Files of a stack `site`: the repository of both outputs tests (push and pull). */

/** The producer: an endpoint from its `port` variable, and the sensitive password it is given. */
export const dbModule = `terraform {
  backend "local" {}
}

variable "port" {
  type = string
}

variable "db_password" {
  type      = string
  sensitive = true
}

resource "terraform_data" "db" {
  input = var.port
}

output "endpoint" {
  value = "db.internal:\${terraform_data.db.output}"
}

output "password" {
  value     = var.db_password
  sensitive = true
}
`;

/** The consumer: a config file reading the endpoint, and a 0600 file holding the password. */
export const siteFiles = `apiVersion: host.gitward.dev/v1alpha1
kind: File
metadata: { name: app-conf }
spec:
  path: app.conf
  content: "upstream \${outputs.db.endpoint};\\n"
---
apiVersion: host.gitward.dev/v1alpha1
kind: File
metadata: { name: db-pass }
spec:
  path: db.pass
  mode: "0600"
  content: "\${outputs.db.password}"
`;
