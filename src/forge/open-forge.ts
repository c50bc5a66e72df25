import type { Forge, ForgeSettings } from "./forge.ts";

/**
 * Opens the forge `settings` name. Each client is loaded only when used, so a command that
 * talks to no forge loads none of their libraries.
 */
export async function openForge(settings: ForgeSettings): Promise<Forge> {
  switch (settings.kind) {
    case "github":
      return (await import("./github.ts")).createGitHubForge(settings);
    case "gitlab":
      return (await import("./gitlab.ts")).createGitLabForge(settings);
    case "gitea":
      return (await import("./gitea.ts")).createGiteaForge(settings);
  }
}
