/**
 * The route modules the server registers, in order. A module is an {@link ApiModule}: it adds
 * its routes (with zod schemas and `config.access`) to the app it is given. To add one, import it
 * and add ONE line to {@link apiModules}.
 */
import type { ApiModule } from "./deps.ts";
import { actionRoutes } from "./actions.ts";
import { eventRoutes } from "./events-route.ts";
import { readRoutes } from "./read-routes.ts";
import { securityModule, sessionModule } from "./session-module.ts";
import { stackLiveRoutes } from "./stack-live.ts";
import { tokenRoutes } from "./token-routes.ts";
import { uiRoutes } from "./ui.ts";

export type { ApiDeps, ApiModule, PrincipalResolver, RouteAccess } from "./deps.ts";

/** Every route module of the API, registered under `/api/v1` by `buildServer`. */
export const apiModules: readonly ApiModule[] = [
  securityModule,
  sessionModule,
  readRoutes,
  actionRoutes,
  eventRoutes,
  stackLiveRoutes,
  tokenRoutes,
  // GET / and client routes: the web UI (dist/ui), or the status page when it is not built. Last: its /* catches what nothing else did.
  uiRoutes,
];
