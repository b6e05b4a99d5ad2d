/**
 * `GlueJobRuns` as signed HTTP requests: Glue's JSON 1.1 protocol (a `POST /` whose
 * `X-Amz-Target` names the operation, JSON in and out, times as epoch seconds, errors as
 * `__type`), signed with the SDK's own Signature V4 signer (`@smithy/signature-v4`), sent with
 * `node:https` on a keep-alive agent.
 *
 * Why it exists: the trigger Lambda's cold start is the latency of every refine it starts, and the
 * SDK's `GlueClient` (its full operation tables, middleware stack, credential chain and endpoint
 * rules) costs about three times this module to load and to make its first call. This module
 * carries only what the three job-run calls need, and nothing else changes: the same
 * `GlueRefineJob`, the same retries (`Retry.call`, one place), the same error names.
 *
 * What it does not do, on purpose: credentials come from the config or the environment
 * (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`: what the Lambda runtime sets,
 * and what the SDK's chain reads first there); no profiles, SSO or instance metadata. Endpoint:
 * `https://glue.<region>.amazonaws.com` (`.amazonaws.com.cn` for `cn-*`), or the one given (FIPS,
 * other partitions, local fakes). Outside a Lambda, use `SdkGlueJobRuns`.
 *
 * @since 0.1.0
 */
import type { GetJobRunsResponse, JobRun } from "@aws-sdk/client-glue"
import { Hash } from "@smithy/core/serde"
import { SignatureV4 } from "@smithy/signature-v4"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as http from "node:http"
import * as https from "node:https"
import { config as clientsConfig } from "./ClientConfig.js"
import type { GlueJobRunsApi } from "./GlueJobRuns.js"
import { GlueJobRuns } from "./GlueJobRuns.js"

/** @category models */
export interface HttpGlueJobRunsConfig {
  readonly region: string
  /** Default `https://glue.<region>.amazonaws.com` (`.amazonaws.com.cn` for `cn-*` regions). */
  readonly endpoint?: string | undefined
  readonly credentials: {
    readonly accessKeyId: string
    readonly secretAccessKey: string
    readonly sessionToken?: string | undefined
  }
  /** No answer within this fails the call as a `TimeoutError` (retried as unavailable). Default 10 s. */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * A failed call: `name` is Glue's error type (`EntityNotFoundException`, `ThrottlingException`,
 * ...), or `Http<status>` when the answer names none; `$metadata` as the SDK reports it.
 *
 * @category errors
 */
export class GlueHttpError extends Error {
  readonly $metadata: { readonly httpStatusCode: number; readonly requestId?: string | undefined }
  constructor(name: string, message: string, httpStatusCode: number, requestId: string | undefined) {
    super(message)
    this.name = name
    this.$metadata = { httpStatusCode, ...(requestId !== undefined ? { requestId } : {}) }
  }
}

/** The default endpoint of a region. @category constructors */
export const endpointOf = (region: string): string =>
  `https://glue.${region}.amazonaws.com${region.startsWith("cn-") ? ".cn" : ""}`

/** Glue's error type from `__type` or `x-amzn-errortype`: `aws.glue#Name:extra` -> `Name`. */
const errorType = (raw: string): string => raw.replace(/^.*#/, "").replace(/:.*$/, "")

/** The first of `keys` whose value is a string, in a parsed answer. */
const firstString = (
  parsed: Record<string, unknown> | undefined,
  keys: ReadonlyArray<string>
): string | undefined => {
  for (const key of keys) {
    const v = parsed?.[key]
    if (typeof v === "string") return v
  }
  return undefined
}

/** A job run's epoch-second times as `Date`s, as the SDK gives them. */
const TIME_FIELDS = ["StartedOn", "CompletedOn", "LastModifiedOn"] as const
const reviveRun = (run: Record<string, unknown>): JobRun => {
  const out: Record<string, unknown> = { ...run }
  for (const field of TIME_FIELDS) {
    const v = run[field]
    if (typeof v === "number") out[field] = new Date(Math.round(v * 1000))
  }
  return out as JobRun
}

/**
 * The client and the agent it keeps sockets in (`close` destroys them).
 *
 * @category constructors
 */
export const make = (config: HttpGlueJobRunsConfig): { readonly api: GlueJobRunsApi; readonly close: () => void } => {
  const url = new URL(config.endpoint ?? endpointOf(config.region))
  const secure = url.protocol === "https:"
  const agent = secure ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true })
  const send = secure ? https.request : http.request
  const timeoutMs = Duration.toMillis(config.timeout ?? "10 seconds")
  const signer = new SignatureV4({
    service: "glue",
    region: config.region,
    // the SDK's own Node hash (node:crypto), as its clients pass it
    sha256: Hash.bind(null, "sha256"),
    credentials: {
      accessKeyId: config.credentials.accessKeyId,
      secretAccessKey: config.credentials.secretAccessKey,
      ...(config.credentials.sessionToken !== undefined ? { sessionToken: config.credentials.sessionToken } : {})
    }
  })
  const path = url.pathname === "" ? "/" : url.pathname

  const call = async (operation: string, input: unknown, signal: AbortSignal): Promise<Record<string, unknown>> => {
    const body = JSON.stringify(input)
    const signed = await signer.sign({
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port !== "" ? { port: Number(url.port) } : {}),
      path,
      query: {},
      headers: {
        host: url.host,
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": `AWSGlue.${operation}`,
        "content-length": String(Buffer.byteLength(body))
      },
      body
    })
    return new Promise((resolve, reject) => {
      const req = send(
        {
          protocol: url.protocol,
          hostname: url.hostname,
          port: url.port,
          path,
          method: "POST",
          headers: signed.headers,
          agent,
          signal
        },
        (res) => {
          const chunks: Array<Buffer> = []
          res.on("data", (chunk: Buffer) => chunks.push(chunk))
          res.on("error", reject)
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8")
            const status = res.statusCode ?? 0
            let parsed: Record<string, unknown> | undefined
            try {
              parsed = text === "" ? {} : JSON.parse(text)
            } catch {
              parsed = undefined
            }
            if (status >= 200 && status < 300 && parsed !== undefined) return resolve(parsed)
            const header = res.headers["x-amzn-errortype"]
            const rawType = typeof header === "string" ? header : firstString(parsed, ["__type", "code"])
            const message = firstString(parsed, ["message", "Message"])
            const requestId = res.headers["x-amzn-requestid"]
            reject(
              new GlueHttpError(
                rawType !== undefined ? errorType(rawType) : `Http${status}`,
                message !== undefined ?
                  message :
                  `Glue ${operation}: HTTP ${status}${
                    parsed === undefined ? ` (not JSON: ${text.slice(0, 200)})` : ""
                  }`,
                status,
                typeof requestId === "string" ? requestId : undefined
              )
            )
          })
        }
      )
      req.setTimeout(timeoutMs, () => {
        const error = new Error(`Glue ${operation}: no answer within ${timeoutMs} ms`)
        error.name = "TimeoutError"
        req.destroy(error)
      })
      req.on("error", reject)
      req.end(body)
    })
  }

  const api: GlueJobRunsApi = {
    getJobRuns: (input, signal) =>
      call("GetJobRuns", input, signal).then((out) => ({
        ...out,
        ...(Array.isArray(out["JobRuns"]) ? { JobRuns: out["JobRuns"].map(reviveRun) } : {})
      } as GetJobRunsResponse)),
    getJobRun: (input, signal) =>
      call("GetJobRun", input, signal).then((out) => ({
        ...(typeof out["JobRun"] === "object" && out["JobRun"] !== null ?
          { JobRun: reviveRun(out["JobRun"] as Record<string, unknown>) } :
          {})
      })),
    startJobRun: (input, signal) =>
      call("StartJobRun", input, signal).then((out) => ({
        ...(typeof out["JobRunId"] === "string" ? { JobRunId: out["JobRunId"] } : {})
      }))
  }
  return { api, close: () => agent.destroy() }
}

/** The agent's sockets are closed with the layer's scope. @category layers */
export const layer = (config: HttpGlueJobRunsConfig): Layer.Layer<GlueJobRuns> =>
  Layer.scoped(
    GlueJobRuns,
    Effect.map(Effect.acquireRelease(Effect.sync(() => make(config)), (c) => Effect.sync(c.close)), (c) => c.api)
  )

const required = (name: string) =>
  Config.nonEmptyString(name).pipe(
    Config.orElse(() =>
      Config.fail(
        `${name} is not set: HttpGlueJobRuns signs with the environment's credentials (the Lambda runtime sets them); elsewhere use SdkGlueJobRuns`
      )
    )
  )

/**
 * The configuration from the environment: region and `B3_GLUE_ENDPOINT` as `ClientConfig.config`
 * reads them, credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.
 *
 * @category config
 */
export const config: Config.Config<HttpGlueJobRunsConfig> = Config.all({
  clients: clientsConfig,
  accessKeyId: required("AWS_ACCESS_KEY_ID"),
  secretAccessKey: required("AWS_SECRET_ACCESS_KEY"),
  sessionToken: Config.option(Config.nonEmptyString("AWS_SESSION_TOKEN"))
}).pipe(Config.map(({ accessKeyId, clients, secretAccessKey, sessionToken }) => ({
  region: clients.region,
  endpoint: clients.glueEndpoint,
  credentials: { accessKeyId, secretAccessKey, sessionToken: Option.getOrUndefined(sessionToken) }
})))

/** @category layers */
export const layerConfig = (
  cfg: Config.Config<HttpGlueJobRunsConfig> = config
): Layer.Layer<GlueJobRuns, ConfigError.ConfigError> => Layer.unwrapEffect(Effect.map(cfg, layer))
