/**
 * The filesystem calls of `FileSystemObjectStore`: plain node:fs, synchronous
 * except `fsync` (the one call that waits on the disk, kept off the event loop so that concurrent
 * writers overlap their waits). An object behind an interface so tests can inject failures.
 */
import * as fs from "node:fs"

/** The subset of a file's stat the store uses. */
export interface IoStat {
  readonly isFile: boolean
  readonly size: number
  /** Modification time, whole milliseconds. */
  readonly mtime: number
  readonly ino: number
}

export interface Io {
  /** Creates `dir` and its missing parents. */
  readonly mkdir: (dir: string) => void
  /** Opens a new file for writing; fails (EEXIST) when `file` exists. */
  readonly openExclusive: (file: string) => number
  /** Writes every byte of `bytes` at the file's position. */
  readonly writeAll: (fd: number, bytes: Uint8Array) => void
  readonly fsync: (fd: number, done: (error: unknown) => void) => void
  readonly close: (fd: number) => void
  /** Renames `from` over `to` (atomic on one filesystem). */
  readonly rename: (from: string, to: string) => void
  readonly unlink: (file: string) => void
  /** `undefined` when nothing is at `file`. */
  readonly stat: (file: string) => IoStat | undefined
  /** `undefined` when nothing is at `file`. */
  readonly readFile: (file: string) => Uint8Array | undefined
  /** The names in folder `dir`; `undefined` when nothing is at `dir`. */
  readonly readdir: (dir: string) => ReadonlyArray<string> | undefined
}

const isNotFound = (e: unknown): boolean =>
  typeof e === "object" && e !== null && (e as { readonly code?: unknown }).code === "ENOENT"

/** `f()`, or `undefined` when it fails because nothing is at its path. */
const unlessMissing = <A>(f: () => A): A | undefined => {
  try {
    return f()
  } catch (e) {
    if (isNotFound(e)) return undefined
    throw e
  }
}

export const nodeIo: Io = {
  mkdir: (dir) => {
    fs.mkdirSync(dir, { recursive: true })
  },
  openExclusive: (file) => fs.openSync(file, "wx"),
  writeAll: (fd, bytes) => {
    let at = 0
    while (at < bytes.byteLength) at += fs.writeSync(fd, bytes, at, bytes.byteLength - at)
  },
  fsync: (fd, done) => fs.fsync(fd, (error) => done(error ?? undefined)),
  close: (fd) => fs.closeSync(fd),
  rename: (from, to) => fs.renameSync(from, to),
  unlink: (file) => fs.unlinkSync(file),
  stat: (file) => {
    const s = fs.statSync(file, { throwIfNoEntry: false })
    // whole milliseconds, as a Date of the same stat reads them (the etags of earlier versions)
    return s === undefined ? undefined : { isFile: s.isFile(), size: s.size, mtime: Math.trunc(s.mtimeMs), ino: s.ino }
  },
  readFile: (file) => unlessMissing(() => fs.readFileSync(file)),
  readdir: (dir) => unlessMissing(() => fs.readdirSync(dir))
}
