/**
 * Test support: an s3rver (S3 emulator) in a child Node process on 127.0.0.1 (random port), as a
 * scoped resource, with the client configuration to reach it. Its S3 event notifications arrive on
 * a queue, as real `{ Records: [...] }` JSON. The child runs with `--openssl-legacy-provider`
 * (s3rver's continuation tokens use DES), so truncated listings work whatever NODE_OPTIONS says.
 * s3rver is an optional peer dependency of this package: install it (as a devDependency) to use
 * this test-only entry, `@b3-pipeline/aws-adapter/testing`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import type * as AwsClients from "../ClientConfig.js"

/** @category models */
export interface S3rverHandle {
  readonly endpoint: string
  readonly clients: AwsClients.AwsClientsConfig
  /** S3 event notifications emitted by s3rver (object created/removed), in order. */
  readonly events: Queue.Dequeue<unknown>
}

const script = fileURLToPath(new URL("../internal/s3rver-child.mjs", import.meta.url))

/** Starts s3rver with the given buckets; stopped (and its folder removed) with the scope. @category resources */
export const startS3rver = (
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
      if (child.stdout === null) return resume(Effect.fail(new Error("s3rver: the child has no stdout pipe")))
      const lines = createInterface({ input: child.stdout })
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
