import type { ForgeFace } from "./server.ts";

/** Placeholder: the Gitea face is being written. */
export function giteaFace(): ForgeFace {
  throw new Error("the Gitea face is not written yet");
}
