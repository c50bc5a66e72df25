import type { ForgeFace } from "./server.ts";

/** Placeholder: the GitLab face is being written. */
export function gitlabFace(): ForgeFace {
  throw new Error("the GitLab face is not written yet");
}
