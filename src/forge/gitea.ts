import type { Forge, ForgeSettings } from "./forge.ts";

/** Placeholder: the Gitea client is being written. */
export function createGiteaForge(settings: ForgeSettings): Forge {
  throw new Error(`the Gitea client is not written yet (${settings.apiUrl})`);
}
