import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { GitwardError } from "../core/errors.ts";

/** Reads blobs by object id; the port a snapshot reads file contents through. */
export interface BlobReader {
  /** Contents in the order of `oids`; rejects when one is missing. */
  read(oids: readonly string[], signal?: AbortSignal): Promise<Buffer[]>;
  /** Ends any process behind the reader. */
  close(): Promise<void>;
}

/** Options for {@link CatFileBatch}. */
export interface CatFileBatchOptions {
  readonly gitDir: string;
  readonly displayName: string;
  /** Milliseconds one `read` may take; default 60 000. */
  readonly timeoutMs?: number;
}

interface Request {
  readonly oid: string;
  readonly resolve: (content: Buffer) => void;
  readonly reject: (error: unknown) => void;
}

/** Pipe streams of a child process have ref/unref, though their declared type does not say so. */
interface Refable {
  ref?: () => void;
  unref?: () => void;
}

/**
 * A blob reader over one long-lived `git cat-file --batch` process: started on the
 * first read, reused by every later one, with requests pipelined. It is a stream, so
 * it is spawned directly rather than through the one-shot CommandRunner port.
 */
export class CatFileBatch implements BlobReader {
  private readonly options: CatFileBatchOptions;
  private child: ChildProcessWithoutNullStreams | undefined;
  private queue: Request[] = [];
  private head = 0;
  private header = Buffer.alloc(0);
  private body: { buffer: Buffer; filled: number } | undefined;
  private stderr = "";

  constructor(options: CatFileBatchOptions) {
    this.options = options;
  }

  async read(oids: readonly string[], signal?: AbortSignal): Promise<Buffer[]> {
    if (oids.length === 0) return [];
    const limit = AbortSignal.timeout(this.options.timeoutMs ?? 60_000);
    const combined = signal === undefined ? limit : AbortSignal.any([signal, limit]);
    combined.throwIfAborted();
    const child = this.process();
    const results = oids.map(
      (oid) => new Promise<Buffer>((resolve, reject) => this.queue.push({ oid, resolve, reject })),
    );
    this.setBusy(true);
    const onAbort = (): void => {
      const reason: unknown = limit.aborted
        ? new GitwardError("git", `reading objects from ${this.options.displayName} timed out`)
        : combined.reason;
      this.stop(reason);
    };
    combined.addEventListener("abort", onAbort, { once: true });
    child.stdin.write(`${oids.join("\n")}\n`);
    try {
      return await Promise.all(results);
    } finally {
      combined.removeEventListener("abort", onAbort);
    }
  }

  async close(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
    this.setBusy(true);
    child.stdin.end();
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }

  private process(): ChildProcessWithoutNullStreams {
    if (this.child !== undefined) return this.child;
    const child = spawn("git", [`--git-dir=${this.options.gitDir}`, "cat-file", "--batch"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    // First: a spawn that fails (EMFILE, EAGAIN) emits 'error' on the next tick and leaves the
    // pipes unset; unhandled, that 'error' would end the process.
    child.on("error", (error) => this.ended(child, error));
    if ((child.stdout as unknown) == null || (child.stdin as unknown) == null || (child.stderr as unknown) == null) {
      throw new GitwardError("git", `reading objects from ${this.options.displayName} failed: cannot start git cat-file`);
    }
    this.child = child;
    this.stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      if (this.child === child) this.onData(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      if (this.stderr.length < 4096) this.stderr += chunk.toString("utf8");
    });
    child.stdin.on("error", () => {
      // The process died; its close event rejects what is pending.
    });
    child.on("close", () => this.ended(child, undefined));
    return child;
  }

  private ended(child: ChildProcessWithoutNullStreams, error: Error | undefined): void {
    if (this.child !== child) return;
    this.child = undefined;
    const why = error?.message ?? (this.stderr.trim().split("\n")[0] || "the process ended");
    this.failAll(new GitwardError("git", `reading objects from ${this.options.displayName} failed: ${why}`));
  }

  /** Kills the process (a pipelined request cannot be withdrawn) and rejects everything pending. */
  private stop(reason: unknown): void {
    const child = this.child;
    this.child = undefined;
    child?.kill("SIGKILL");
    this.failAll(reason);
  }

  private failAll(reason: unknown): void {
    const pending = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    this.header = Buffer.alloc(0);
    this.body = undefined;
    for (const request of pending) request.reject(reason);
  }

  private onData(chunk: Buffer): void {
    let offset = 0;
    // stop() clears the child: what follows in the chunk belongs to no request.
    while (offset < chunk.length && this.child !== undefined) {
      if (this.body !== undefined) {
        offset = this.fillBody(chunk, offset);
        continue;
      }
      const newline = chunk.indexOf(10, offset);
      if (newline === -1) {
        this.header = Buffer.concat([this.header, chunk.subarray(offset)]);
        return;
      }
      const line = Buffer.concat([this.header, chunk.subarray(offset, newline)]).toString("utf8");
      this.header = Buffer.alloc(0);
      offset = newline + 1;
      this.onHeader(line);
    }
  }

  /** Copies body bytes into a buffer sized from the header, so large blobs are not concatenated repeatedly. */
  private fillBody(chunk: Buffer, offset: number): number {
    const body = this.body;
    if (body === undefined) return offset;
    const n = Math.min(body.buffer.length - body.filled, chunk.length - offset);
    chunk.copy(body.buffer, body.filled, offset, offset + n);
    body.filled += n;
    if (body.filled === body.buffer.length) {
      this.body = undefined;
      // The last byte is the newline git writes after each object.
      this.next()?.resolve(body.buffer.subarray(0, body.buffer.length - 1));
    }
    return offset + n;
  }

  private onHeader(line: string): void {
    const parts = line.split(" ");
    if (parts.length === 2 && parts[1] === "missing") {
      const request = this.next();
      request?.reject(new GitwardError("git", `object ${request.oid} is missing from ${this.options.displayName}`));
      return;
    }
    const size = Number(parts[2]);
    if (parts.length !== 3 || !Number.isSafeInteger(size) || size < 0) {
      this.stop(new GitwardError("git", `unexpected cat-file output: ${JSON.stringify(line.slice(0, 200))}`));
      return;
    }
    this.body = { buffer: Buffer.allocUnsafe(size + 1), filled: 0 };
  }

  private next(): Request | undefined {
    const request = this.queue[this.head];
    this.head += 1;
    if (this.head >= this.queue.length) {
      this.queue = [];
      this.head = 0;
      this.setBusy(false);
    }
    return request;
  }

  /** An idle reader must not keep Node alive; a busy one must, or a pending read could be dropped at exit. */
  private setBusy(busy: boolean): void {
    const child = this.child;
    if (child === undefined) return;
    for (const handle of [child, child.stdin, child.stdout, child.stderr] as Refable[]) {
      if (busy) handle.ref?.();
      else handle.unref?.();
    }
  }
}
