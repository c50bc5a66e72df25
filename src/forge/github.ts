import type { Forge, ForgeSettings } from "./forge.ts";

/** Placeholder: the GitHub client is being written. */
export function createGitHubForge(settings: ForgeSettings): Forge {
  throw new Error(`the GitHub client is not written yet (${settings.apiUrl})`);
}
