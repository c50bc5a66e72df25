/**
 * The root module both Terraform benchmarks (issue 15) plan and apply: `resources`
 * `terraform_data` resources (Terraform's built-in provider, so no registry), a local backend
 * whose path is given at init, two variables and one output.
 */
export function terraformBenchModule(resources: number): string {
  const blocks = Array.from({ length: resources }, (_, i) => `resource "terraform_data" "r${i}" {
  input            = { index = ${i}, name = "\${var.prefix}-${i}" }
  triggers_replace = [var.generation]
}
`);
  return `terraform {
  backend "local" {}
}
variable "prefix" {
  type = string
}
variable "generation" {
  type = number
}
${blocks.join("")}output "count" {
  value = ${resources}
}
`;
}
