// The little of oidc-provider (v9, shipped without types) the OIDC end-to-end test uses.
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  /** An OpenID Provider: `callback()` is a Node request handler serving it. */
  // The package's own export is a default one.
  // eslint-disable-next-line no-restricted-syntax
  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
  }
}
