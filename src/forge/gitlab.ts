import type { Forge, ForgeSettings } from "./forge.ts";

/** Placeholder: the GitLab client is being written. */
export function createGitLabForge(settings: ForgeSettings): Forge {
  throw new Error(`the GitLab client is not written yet (${settings.apiUrl})`);
}
