/**
 * One writer at a time on a local warehouse, across processes: a lock folder
 * `<warehouse>/.b3-writer.lock` taken with `proper-lockfile` (atomic `mkdir`, its mtime refreshed
 * while held, taken over once stale), plus `<warehouse>/.b3-writer.json` naming the holder (pid,
 * host, command, since) for the messages of the processes that wait.
 *
 * - A second writer waits (polling), after one line through `onWait`; with `wait: false` it fails
 *   at once with reason "Held", naming the holder.
 * - A holder that died (SIGKILL, power loss) is detected at once when it ran on this host (its pid
 *   is gone), otherwise when the lock goes stale; its lock is taken over.
 * - The holder file is removed on release, so finding one when taking the lock means the previous
 *   writer did not finish: `recovered` is true and `cleanLeftovers` should run (still under the lock).
 *
 * Readers (`query`, `status`, `report`) take no lock: every file they read is replaced by an atomic
 * rename, so they see the state before or after a writer's step, never a mix.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as lockfile from "proper-lockfile"

/** The lock folder, inside the warehouse. @category constants */
export const LOCK_NAME = ".b3-writer.lock"
/** Who holds the lock, inside the warehouse. @category constants */
export const HOLDER_NAME = ".b3-writer.json"

/** @category errors */
export class WriterLockError extends Schema.TaggedError<WriterLockError>()("WriterLockError", {
  reason: Schema.Literal("Held", "Failed"),
  warehouse: Schema.String,
  holder: Schema.optional(Schema.String),
  detail: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return this.reason === "Held" ?
      `the warehouse ${this.warehouse} is being written by ${
        this.holder ?? "another process"
      } (--no-wait: not waiting)` :
      `cannot take the writer lock of ${this.warehouse}${this.detail !== undefined ? `: ${this.detail}` : ""}`
  }
}

/** @category models */
export interface Holder {
  readonly pid: number
  readonly hostname: string
  readonly command: string
  readonly since: string
  /** Identity of the lock folder this holder took (inode and birth time), see `lockIdentity`. */
  readonly lock?: string
}

/** @category models */
export interface AcquireOptions {
  /** What the holder is doing, for the others' messages (e.g. "b3 replay"). */
  readonly command: string
  /** Wait for the lock (default) or fail with "Held". */
  readonly wait?: boolean
  /** Called once when this process starts waiting, with the holder's description. */
  readonly onWait?: (holder: string) => void
  /** Poll interval while waiting (default 200 ms). */
  readonly poll?: Duration.DurationInput
}

/** @category models */
export interface Lock {
  /** True when the previous writer did not release the lock (crashed): clean leftovers. */
  readonly recovered: boolean
}

/** The holder's description: "pid 123 on host (b3 replay, since 2026-...)". @category models */
export const describeHolder = (h: Holder | undefined): string =>
  h === undefined ? "another process" : `pid ${h.pid} on ${h.hostname} (${h.command}, since ${h.since})`

const readHolder = (file: string): Holder | undefined => {
  try {
    const h = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<Holder>
    return typeof h.pid === "number" && typeof h.hostname === "string" ?
      {
        pid: h.pid,
        hostname: h.hostname,
        command: String(h.command ?? "?"),
        since: String(h.since ?? "?"),
        ...(typeof h.lock === "string" ? { lock: h.lock } : {})
      } :
      undefined
  } catch {
    return undefined
  }
}

/**
 * The identity of the lock folder now on disk (inode and birth time), or undefined when there is none.
 * A holder file names the folder it took, so a holder file left by a dead writer is never mistaken
 * for the holder of a lock another process has just taken (and not yet described).
 */
const lockIdentity = (lockPath: string): string | undefined => {
  try {
    const st = fs.statSync(lockPath)
    return `${st.ino}:${st.birthtimeMs}`
  } catch {
    return undefined
  }
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

/**
 * Takes the writer lock of `warehouse` for the current scope (released when it closes, and by
 * `proper-lockfile` on process exit).
 *
 * @category locking
 */
export const acquire = (
  warehouse: string,
  options: AcquireOptions
): Effect.Effect<Lock, WriterLockError, Scope.Scope> => {
  const lockPath = path.join(warehouse, LOCK_NAME)
  const holderPath = path.join(warehouse, HOLDER_NAME)
  const failed = (detail: string) => (cause: unknown) =>
    new WriterLockError({ reason: "Failed", warehouse, detail: `${detail}: ${String(cause)}`, cause })

  const tryLock = Effect.tryPromise({
    try: () =>
      lockfile.lock(warehouse, {
        lockfilePath: lockPath,
        realpath: false,
        retries: 0,
        stale: 20_000,
        update: 4_000,
        onCompromised: (err) => {
          process.stderr.write(`b3: warning: the writer lock of ${warehouse} was lost: ${err.message}\n`)
        }
      }),
    catch: (e) => e
  }).pipe(
    Effect.map((release) => ({ _tag: "Locked" as const, release })),
    Effect.catchAll((e) =>
      (e as NodeJS.ErrnoException).code === "ELOCKED" ?
        Effect.succeed({ _tag: "Busy" as const }) :
        Effect.fail(failed(`taking ${lockPath}`)(e))
    )
  )

  const take: Effect.Effect<{ release: () => Promise<void> }, WriterLockError> = Effect.gen(function*() {
    yield* Effect.try({
      try: () => fs.mkdirSync(warehouse, { recursive: true }),
      catch: failed(`creating ${warehouse}`)
    })
    let told = false
    let busySince: number | undefined
    for (;;) {
      const attempt = yield* tryLock
      if (attempt._tag === "Locked") return attempt
      const held = readHolder(holderPath)
      // a holder file that names another lock folder is a dead writer's, not this lock's holder's (the
      // new holder has taken the folder and is about to describe itself)
      const holder = held !== undefined && held.lock === lockIdentity(lockPath) ? held : undefined
      if (
        holder !== undefined && holder.hostname === os.hostname() && holder.pid !== process.pid && !isAlive(holder.pid)
      ) {
        // the holder died on this host: its lock is stale now, not in `stale` ms
        yield* Effect.sync(() => fs.rmSync(lockPath, { recursive: true, force: true }))
        continue
      }
      if (options.wait === false) {
        return yield* new WriterLockError({ reason: "Held", warehouse, holder: describeHolder(holder) })
      }
      // the one waiting line names the holder: give it a moment to describe itself
      const now = yield* Clock.currentTimeMillis
      busySince ??= now
      if (!told && (holder !== undefined || now - busySince > 2_000)) {
        told = true
        options.onWait?.(describeHolder(holder))
      }
      yield* Effect.sleep(options.poll ?? "200 millis")
    }
  })

  return Effect.acquireRelease(
    Effect.gen(function*() {
      const { release } = yield* take
      const lock = lockIdentity(lockPath)
      const recovered = fs.existsSync(holderPath)
      const me: Holder = {
        pid: process.pid,
        hostname: os.hostname(),
        command: options.command,
        since: new Date(yield* Clock.currentTimeMillis).toISOString(),
        ...(lock !== undefined ? { lock } : {})
      }
      yield* Effect.try({
        try: () => fs.writeFileSync(holderPath, JSON.stringify(me) + "\n"),
        catch: failed(`writing ${holderPath}`)
      }).pipe(Effect.tapError(() => Effect.ignore(Effect.tryPromise(() => release()))))
      return { recovered, release }
    }),
    ({ release }) =>
      // the holder file first, then the lock (released even when the file could not be removed);
      // a release that fails is left to proper-lockfile's staleness, the lock is ours no more
      Effect.try({ try: () => fs.rmSync(holderPath, { force: true }), catch: failed(`removing ${holderPath}`) }).pipe(
        Effect.ensuring(Effect.ignore(Effect.tryPromise(() => release()))),
        Effect.catchAll((e) => Effect.logWarning(e.message))
      )
  ).pipe(Effect.map(({ recovered }): Lock => ({ recovered })))
}

/** Folders of the warehouse never walked for leftovers (large trees written without temp files). */
const SKIP = new Set(["refined", LOCK_NAME])

/**
 * Removes what a killed writer left behind: the refine staging folder `_staging/` and every
 * `.tmp-*` file (atomic writes cut before their rename) outside `refined/` (written by staging and
 * rename, never through temp files). Run it under the lock. Returns the paths removed.
 *
 * @category locking
 */
export const cleanLeftovers = (warehouse: string): Effect.Effect<ReadonlyArray<string>, WriterLockError> =>
  Effect.try({
    try: () => {
      const removed: Array<string> = []
      const staging = path.join(warehouse, "_staging")
      if (fs.existsSync(staging)) {
        fs.rmSync(staging, { recursive: true, force: true })
        removed.push(staging)
      }
      const walk = (dir: string, top: boolean) => {
        let entries: Array<fs.Dirent>
        try {
          entries = fs.readdirSync(dir, { withFileTypes: true })
        } catch {
          return
        }
        for (const e of entries) {
          const full = path.join(dir, e.name)
          if (e.name.startsWith(".tmp-")) {
            fs.rmSync(full, { recursive: true, force: true })
            removed.push(full)
          } else if (e.isDirectory() && !(top && SKIP.has(e.name))) {
            walk(full, false)
          }
        }
      }
      walk(warehouse, true)
      return removed
    },
    catch: (e) => new WriterLockError({ reason: "Failed", warehouse, detail: `cleaning leftovers: ${String(e)}` })
  })
