import { AsyncLocalStorage } from "node:async_hooks";
import type { CommandResult, CommandRunner, CommandSpec } from "../core/command-runner.ts";
import type { Fence } from "../store/fence.ts";

/**
 * The fence of the stack whose work is running in the current async context: set by the
 * coordinator around each work item, read by the commands a target runs for it.
 */
export class FenceContext {
  readonly #storage = new AsyncLocalStorage<Fence>();

  /** Runs `fn` with `fence` as the current fence of everything it awaits. */
  run<T>(fence: Fence, fn: () => Promise<T>): Promise<T> {
    return this.#storage.run(fence, fn);
  }

  /** The current fence, or undefined outside fenced work. */
  current(): Fence | undefined {
    return this.#storage.getStore();
  }
}

/**
 * A command runner that checks the fence of the sync it runs for, before a command starts and
 * again when it ends: a host target's `check` that was running while the process was paused past
 * its lease ends in a refusal, so the transaction stops before any file is swapped in or
 * `reload` runs.
 */
export function fencedRunner(inner: CommandRunner, fences: FenceContext): CommandRunner {
  return {
    async run(spec: CommandSpec): Promise<CommandResult> {
      const fence = fences.current();
      fence?.check();
      const result = await inner.run(spec);
      fence?.check();
      return result;
    },
  };
}
