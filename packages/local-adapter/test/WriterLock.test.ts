import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll } from "vitest"
import { acquire, HOLDER_NAME, LOCK_NAME } from "../src/WriterLock.js"

const root = fs.mkdtempSync(path.join(os.tmpdir(), "b3-writer-lock-"))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

/** The pid of a process that has exited. */
const deadPid = (): number => spawnSync(process.execPath, ["-e", ""]).pid!

const identity = (dir: string) => {
  const st = fs.statSync(dir)
  return `${st.ino}:${st.birthtimeMs}`
}

const deadHolder = (warehouse: string, lock: string) =>
  fs.writeFileSync(
    path.join(warehouse, HOLDER_NAME),
    JSON.stringify({
      pid: deadPid(),
      hostname: os.hostname(),
      command: "b3 replay",
      since: "2026-01-01T00:00:00Z",
      lock
    })
  )

describe("WriterLock", () => {
  it.scoped("a dead writer's lock on this host is taken over at once, and reported as recovered", () =>
    Effect.gen(function*() {
      const wh = path.join(root, "dead")
      fs.mkdirSync(path.join(wh, LOCK_NAME), { recursive: true })
      deadHolder(wh, identity(path.join(wh, LOCK_NAME)))
      const lock = yield* acquire(wh, { command: "test", wait: false })
      assert.isTrue(lock.recovered)
      const me = JSON.parse(fs.readFileSync(path.join(wh, HOLDER_NAME), "utf8"))
      assert.strictEqual(me.pid, process.pid)
      assert.strictEqual(me.lock, identity(path.join(wh, LOCK_NAME)))
    }))

  it.scoped("a dead writer's holder file never hands over a lock folder another process has just taken", () =>
    Effect.gen(function*() {
      const wh = path.join(root, "race")
      fs.mkdirSync(wh, { recursive: true })
      // a writer died long ago, leaving its description; another process has since taken a NEW lock
      // folder and not yet described itself
      deadHolder(wh, "1:0")
      fs.mkdirSync(path.join(wh, LOCK_NAME))
      const error = yield* Effect.flip(acquire(wh, { command: "test", wait: false }))
      assert.strictEqual(error.reason, "Held")
      assert.strictEqual(error.holder, "another process")
      assert.isTrue(fs.existsSync(path.join(wh, LOCK_NAME)), "the live lock folder was removed")
    }))
})
