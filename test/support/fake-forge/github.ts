import type { ForgeFace } from "./server.ts";

/** Placeholder: the GitHub face is being written. */
export function githubFace(): ForgeFace {
  throw new Error("the GitHub face is not written yet");
}
