/**
 * Test support: an s3rver in a child process on 127.0.0.1, as a scoped resource. Its S3 event
 * notifications arrive on a queue, as real `{ Records: [...] }` JSON.
 */
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import type * as AwsClients from "../../src/AwsClients.js"

export interface S3rverHandle {
  readonly endpoint: string
  readonly clients: AwsClients.AwsClientsConfig
  /** S3 event notifications emitted by s3rver (object created/removed), in order. */
  readonly events: Queue.Dequeue<unknown>
}

const script = fileURLToPath(new URL("./s3rver-child.mjs", import.meta.url))

export const start = (
  buckets: ReadonlyArray<string>
): Effect.Effect<S3rverHandle, Error, Scope.Scope> =>
  Effect.gen(function*() {
    const events = yield* Queue.unbounded<unknown>()
    const runtime = yield* Effect.runtime<never>()
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn(process.execPath, ["--openssl-legacy-provider", script, ...buckets], {
          stdio: ["pipe", "pipe", "inherit"],
          env: { ...process.env, NODE_OPTIONS: "" }
        })
      ),
      (child) =>
        Effect.async<void>((resume) => {
          if (child.exitCode !== null) return resume(Effect.void)
          child.once("exit", () => resume(Effect.void))
          child.stdin?.end()
          const timer = setTimeout(() => child.kill("SIGKILL"), 5_000)
          child.once("exit", () => clearTimeout(timer))
        })
    )
    const port = yield* Effect.async<number, Error>((resume) => {
      const lines = createInterface({ input: child.stdout! })
      let ready = false
      lines.on("line", (line) => {
        let msg: { ready?: { port: number }; event?: unknown }
        try {
          msg = JSON.parse(line)
        } catch {
          return
        }
        if (msg.ready !== undefined && !ready) {
          ready = true
          resume(Effect.succeed(msg.ready.port))
        } else if (msg.event !== undefined) {
          Runtime.runSync(runtime)(Queue.offer(events, msg.event))
        }
      })
      child.once("exit", (code) => {
        if (!ready) resume(Effect.fail(new Error(`s3rver exited with ${code} before it was ready`)))
      })
    })
    const endpoint = `http://127.0.0.1:${port}`
    return {
      endpoint,
      events,
      clients: {
        region: "us-east-1",
        s3Endpoint: endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" }
      }
    }
  })
