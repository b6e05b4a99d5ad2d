// The signed-HTTP Glue client against servers on 127.0.0.1: its requests carry a valid Signature V4
// (checked by an implementation of the algorithm written here from AWS's description, which the
// SDK's own requests pass too), the same operation, headers and body as the SDK's; failures come
// back with the names the adapters classify; timeouts, aborts and a missing credential are clear.
import { GlueClient, StartJobRunCommand } from "@aws-sdk/client-glue"
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { createHash, createHmac } from "node:crypto"
import type { IncomingHttpHeaders, Server } from "node:http"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { GlueJobRuns } from "../src/GlueJobRuns.js"
import * as HttpGlueJobRuns from "../src/HttpGlueJobRuns.js"
import { classify } from "../src/internal/awsError.js"

interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
}
type Answer = { status: number; headers?: Record<string, string>; body: string } | "hang"

/** A server that records each request and answers with `answer(n)`. */
const serve = (answer: (n: number) => Answer) =>
  Effect.acquireRelease(
    Effect.async<{ server: Server; seen: Array<Seen>; endpoint: string }>((resume) => {
      const seen: Array<Seen> = []
      const server = createServer((req, res) => {
        let body = ""
        req.on("data", (d) => (body += d))
        req.on("end", () => {
          seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body })
          const a = answer(seen.length)
          if (a === "hang") return
          res.writeHead(a.status, { "content-type": "application/x-amz-json-1.1", ...a.headers })
          res.end(a.body)
        })
      })
      server.listen(0, "127.0.0.1", () =>
        resume(
          Effect.succeed({ server, seen, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })
        ))
    }),
    ({ server }) =>
      Effect.sync(() => {
        server.closeAllConnections() // the hanging requests' sockets too
        server.close()
      })
  )

const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" }
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex")
const hmac = (key: string | Buffer, s: string) => createHmac("sha256", key).update(s).digest()

/**
 * Signature V4 recomputed from the request as received: the canonical request (method, path, empty
 * query, the signed headers lowercased and trimmed, the body's SHA-256), the string to sign, the
 * key derived from the secret, date, region and service. True when the Authorization header's
 * signature is that one.
 */
const verifySigV4 = (seen: Seen, secret: string): { ok: boolean; scope: string; signedHeaders: Array<string> } => {
  const auth = String(seen.headers["authorization"])
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth)
  if (m === null) return { ok: false, scope: "", signedHeaders: [] }
  const [, , scope, signed, signature] = m as unknown as [string, string, string, string, string]
  const signedHeaders = signed.split(";")
  const [date, region, service] = scope.split("/") as [string, string, string]
  const canonicalHeaders = signedHeaders.map((h) => `${h}:${String(seen.headers[h]).trim().replace(/\s+/g, " ")}\n`)
    .join("")
  const payloadHash = typeof seen.headers["x-amz-content-sha256"] === "string" ?
    seen.headers["x-amz-content-sha256"] :
    sha256(seen.body)
  const canonical = [seen.method, seen.url, "", canonicalHeaders, signed, payloadHash].join("\n")
  const toSign = ["AWS4-HMAC-SHA256", String(seen.headers["x-amz-date"]), scope, sha256(canonical)].join("\n")
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request")
  return { ok: hmac(key, toSign).toString("hex") === signature, scope, signedHeaders }
}

const input = {
  JobName: "b3-refine",
  Arguments: { "--ref_date": "2025-04-07", "--bucket": "b3-bucket" },
  JobRunQueuingEnabled: true
}

const api = (endpoint: string, extra: Partial<HttpGlueJobRuns.HttpGlueJobRunsConfig> = {}) =>
  Effect.acquireRelease(
    Effect.sync(() => HttpGlueJobRuns.make({ region: "sa-east-1", endpoint, credentials, ...extra })),
    (c) => Effect.sync(c.close)
  ).pipe(Effect.map((c) => c.api))

const ok = (body: unknown): Answer => ({ status: 200, body: JSON.stringify(body) })

describe("HttpGlueJobRuns", () => {
  it.scoped("signs as Signature V4 would, and sends what the SDK sends for the same call", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => ok({ JobRunId: "jr_1" }))
      const sdk = new GlueClient({ region: "sa-east-1", endpoint: server.endpoint, credentials, maxAttempts: 1 })
      yield* Effect.promise(() => sdk.send(new StartJobRunCommand(input)))
      sdk.destroy()
      const glue = yield* api(server.endpoint)
      const out = yield* Effect.promise(() => glue.startJobRun(input, new AbortController().signal))
      assert.deepStrictEqual(out, { JobRunId: "jr_1" })
      const [fromSdk, ours] = server.seen as [Seen, Seen]
      // the verifier accepts the SDK's request (it is right) and ours
      assert.isTrue(verifySigV4(fromSdk, credentials.secretAccessKey).ok)
      const check = verifySigV4(ours, credentials.secretAccessKey)
      assert.isTrue(check.ok)
      assert.match(check.scope, /^\d{8}\/sa-east-1\/glue\/aws4_request$/)
      assert.includeMembers(check.signedHeaders, ["host", "x-amz-date", "x-amz-target", "content-type"])
      // and a wrong secret does not verify
      assert.isFalse(verifySigV4(ours, "not-the-secret").ok)
      for (const h of ["x-amz-target", "content-type", "host"]) {
        assert.strictEqual(ours.headers[h], fromSdk.headers[h], h)
      }
      assert.strictEqual(ours.headers["x-amz-target"], "AWSGlue.StartJobRun")
      assert.deepStrictEqual([ours.method, ours.url], [fromSdk.method, fromSdk.url])
      assert.deepStrictEqual(JSON.parse(ours.body), JSON.parse(fromSdk.body))
    }))

  it.scoped("a session token is sent and signed", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => ok({ JobRuns: [] }))
      const glue = yield* api(server.endpoint, { credentials: { ...credentials, sessionToken: "the-token" } })
      yield* Effect.promise(() => glue.getJobRuns({ JobName: "b3-refine" }, new AbortController().signal))
      const seen = server.seen[0]!
      assert.strictEqual(seen.headers["x-amz-security-token"], "the-token")
      const check = verifySigV4(seen, credentials.secretAccessKey)
      assert.isTrue(check.ok)
      assert.include(check.signedHeaders, "x-amz-security-token")
    }))

  it.scoped("job runs come back with Date times; paging tokens pass through", () =>
    Effect.gen(function*() {
      const server = yield* serve(() =>
        ok({
          JobRuns: [{
            Id: "jr_2",
            JobRunState: "WAITING",
            StartedOn: 1743984000.123,
            Arguments: { "--ref_date": "2025-04-07" }
          }],
          NextToken: "t2"
        })
      )
      const glue = yield* api(server.endpoint)
      const out = yield* Effect.promise(() =>
        glue.getJobRuns({ JobName: "b3-refine", MaxResults: 100, NextToken: "t1" }, new AbortController().signal)
      )
      assert.strictEqual(out.NextToken, "t2")
      assert.instanceOf(out.JobRuns![0]!.StartedOn, Date)
      assert.strictEqual(out.JobRuns![0]!.StartedOn!.toISOString(), "2025-04-07T00:00:00.123Z")
      assert.deepStrictEqual(JSON.parse(server.seen[0]!.body), {
        JobName: "b3-refine",
        MaxResults: 100,
        NextToken: "t1"
      })
    }))

  it.scoped("errors carry Glue's type and status, as the SDK's do, so they classify the same", () =>
    Effect.gen(function*() {
      const answers: Array<Answer> = [
        {
          status: 400,
          body: JSON.stringify({ __type: "com.amazonaws.glue#EntityNotFoundException", message: "no such run" })
        },
        { status: 400, headers: { "x-amzn-errortype": "ThrottlingException:http://internal.amazon.com/" }, body: "{}" },
        { status: 400, body: JSON.stringify({ __type: "ConcurrentRunsExceededException", Message: "busy" }) },
        { status: 403, body: JSON.stringify({ __type: "AccessDeniedException", message: "no" }) },
        { status: 502, body: "<html>bad gateway</html>" }
      ]
      const server = yield* serve((n) => answers[n - 1]!)
      const glue = yield* api(server.endpoint)
      const errors: Array<HttpGlueJobRuns.GlueHttpError> = []
      for (let i = 0; i < answers.length; i++) {
        errors.push(
          yield* Effect.flip(
            Effect.tryPromise({
              try: () => glue.getJobRun({ JobName: "b3-refine", RunId: "jr_9" }, new AbortController().signal),
              catch: (e) => e as HttpGlueJobRuns.GlueHttpError
            })
          )
        )
      }
      assert.deepStrictEqual(errors.map((e) => e.name), [
        "EntityNotFoundException",
        "ThrottlingException",
        "ConcurrentRunsExceededException",
        "AccessDeniedException",
        "Http502"
      ])
      assert.deepStrictEqual(errors.map(classify), [
        "NotFound",
        "Throttled",
        "ConcurrentRuns",
        "AccessDenied",
        "Unavailable"
      ])
      assert.deepStrictEqual(errors.map((e) => e.$metadata.httpStatusCode), [400, 400, 400, 403, 502])
      assert.strictEqual(errors[0]!.message, "no such run")
      assert.strictEqual(errors[2]!.message, "busy")
      assert.include(errors[4]!.message, "not JSON: <html>bad gateway</html>")
    }))

  it.scoped("no answer within the timeout is a TimeoutError (retried as unavailable); an abort is an AbortError", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => "hang")
      const glue = yield* api(server.endpoint, { timeout: "100 millis" })
      const timedOut = yield* Effect.flip(
        Effect.tryPromise({
          try: () => glue.getJobRuns({ JobName: "j" }, new AbortController().signal),
          catch: (e) => e
        })
      )
      assert.strictEqual((timedOut as Error).name, "TimeoutError")
      assert.strictEqual(classify(timedOut), "Unavailable")
      const controller = new AbortController()
      const pending = glue.getJobRuns({ JobName: "j" }, controller.signal)
      controller.abort()
      const aborted = yield* Effect.flip(Effect.tryPromise({ try: () => pending, catch: (e) => e }))
      assert.strictEqual(classify(aborted), "Aborted")
    }))

  it.effect("the layer from the environment names the missing credential", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Layer.build(HttpGlueJobRuns.layerConfig()).pipe(
          Effect.scoped,
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["AWS_REGION", "sa-east-1"]])))
        )
      )
      assert.include(String(error), "AWS_ACCESS_KEY_ID is not set")
      const built = yield* Layer.build(HttpGlueJobRuns.layerConfig()).pipe(
        Effect.map((ctx) => typeof ctx.unsafeMap.get(GlueJobRuns.key)),
        Effect.scoped,
        Effect.withConfigProvider(ConfigProvider.fromMap(
          new Map([["AWS_REGION", "sa-east-1"], ["AWS_ACCESS_KEY_ID", "a"], ["AWS_SECRET_ACCESS_KEY", "b"]])
        ))
      )
      assert.strictEqual(built, "object")
    }))

  it("default endpoints per partition", () => {
    assert.strictEqual(HttpGlueJobRuns.endpointOf("sa-east-1"), "https://glue.sa-east-1.amazonaws.com")
    assert.strictEqual(HttpGlueJobRuns.endpointOf("cn-north-1"), "https://glue.cn-north-1.amazonaws.com.cn")
  })
})
