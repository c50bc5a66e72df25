import * as fs from "node:fs";

// The callback API, wrapped: each fs/promises call, and FileHandle's above all, costs several
// times a callback call in bookkeeping, which is most of the time of 10,000 small writes.

type Callback<T> = (err: NodeJS.ErrnoException | null, value: T) => void;

function call<T>(start: (cb: Callback<T>) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    start((err, value) => (err === null ? resolve(value) : reject(err)));
  });
}

function done(start: (cb: fs.NoParamCallback) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    start((err) => (err === null ? resolve() : reject(err)));
  });
}

/** Thin promise wrappers over the callback file system API, for the hot paths of a transaction. */
export const fsc = {
  /** lstat(2). */
  lstat: (path: string): Promise<fs.Stats> => call((cb) => fs.lstat(path, cb)),
  /** open(2) with numeric or string flags. */
  open: (path: string, flags: string | number, mode?: number): Promise<number> => call((cb) => fs.open(path, flags, mode, cb)),
  /** Writes the whole buffer at the current position. */
  async writeAll(fd: number, data: Buffer): Promise<void> {
    let off = 0;
    while (off < data.length) off += await call<number>((cb) => fs.write(fd, data, off, data.length - off, null, cb));
  },
  /** Reads up to `length` bytes from position 0. */
  async readUpTo(fd: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    let n = 0;
    while (n < length) {
      const got = await call<number>((cb) => fs.read(fd, buf, n, length - n, n, cb));
      if (got === 0) break;
      n += got;
    }
    return buf.subarray(0, n);
  },
  /** fchmod(2). */
  fchmod: (fd: number, mode: number): Promise<void> => done((cb) => fs.fchmod(fd, mode, cb)),
  /** fchown(2); -1 leaves an id as it is. */
  fchown: (fd: number, uid: number, gid: number): Promise<void> => done((cb) => fs.fchown(fd, uid, gid, cb)),
  /** fsync(2). */
  fsync: (fd: number): Promise<void> => done((cb) => fs.fsync(fd, cb)),
  /** close(2). */
  close: (fd: number): Promise<void> => done((cb) => fs.close(fd, cb)),
  /** rename(2). */
  rename: (from: string, to: string): Promise<void> => done((cb) => fs.rename(from, to, cb)),
  /** link(2). */
  link: (existing: string, created: string): Promise<void> => done((cb) => fs.link(existing, created, cb)),
  /** unlink(2). */
  unlink: (path: string): Promise<void> => done((cb) => fs.unlink(path, cb)),
};
