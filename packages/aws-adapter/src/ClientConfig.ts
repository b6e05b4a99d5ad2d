/**
 * The configuration every AWS SDK client of this package is built from, read from the environment
 * or given. No SDK client is imported here: each lives in its own module (`ClientS3`, `ClientGlue`,
 * `ClientAthena`), so a service that only stores objects in S3 never loads Glue or Athena.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"

/** @category models */
export interface AwsClientsConfig {
  readonly region: string
  /** Endpoint override for S3-compatible stores (s3rver, MinIO). Implies path-style by default. */
  readonly s3Endpoint?: string | undefined
  readonly forcePathStyle?: boolean | undefined
  /** Endpoint override for Glue and Athena (stubs in tests); normally absent. */
  readonly glueEndpoint?: string | undefined
  readonly athenaEndpoint?: string | undefined
  /** Static credentials (tests); absent means the SDK's default provider chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined
}

/** Region, one attempt (retries are the adapters' schedules), explicit credentials when given. @category constructors */
export const common = (config: AwsClientsConfig) => ({
  region: config.region,
  maxAttempts: 1,
  ...(config.credentials !== undefined ? { credentials: { ...config.credentials } } : {})
})

/**
 * The client configuration from the environment: `AWS_REGION` (falling back to
 * `AWS_DEFAULT_REGION`, then `us-east-1`), `B3_S3_ENDPOINT` (optional), `B3_S3_FORCE_PATH_STYLE`
 * (optional boolean), `B3_GLUE_ENDPOINT` / `B3_ATHENA_ENDPOINT` (optional: local stubs, benches).
 *
 * @category config
 */
/** An endpoint override: an absolute URL (`http://127.0.0.1:4569`), checked when the config is read. */
const endpoint = (name: string): Config.Config<string> =>
  Config.string(name).pipe(
    Config.validate({ message: "must be an absolute URL such as http://127.0.0.1:4569", validation: URL.canParse })
  )

export const config: Config.Config<AwsClientsConfig> = /* @__PURE__ */ Config.all({
  region: Config.nonEmptyString("AWS_REGION").pipe(
    Config.orElse(() => Config.nonEmptyString("AWS_DEFAULT_REGION")),
    Config.withDefault("us-east-1")
  ),
  s3Endpoint: Config.option(endpoint("B3_S3_ENDPOINT")),
  forcePathStyle: Config.option(Config.boolean("B3_S3_FORCE_PATH_STYLE")),
  glueEndpoint: Config.option(endpoint("B3_GLUE_ENDPOINT")),
  athenaEndpoint: Config.option(endpoint("B3_ATHENA_ENDPOINT"))
}).pipe(Config.map(({ athenaEndpoint, forcePathStyle, glueEndpoint, region, s3Endpoint }) => ({
  region,
  s3Endpoint: Option.getOrUndefined(s3Endpoint),
  forcePathStyle: Option.getOrUndefined(forcePathStyle),
  glueEndpoint: Option.getOrUndefined(glueEndpoint),
  athenaEndpoint: Option.getOrUndefined(athenaEndpoint)
})))

/**
 * A client as a scoped service: built once per layer, destroyed (sockets closed) when the layer's scope
 * closes. Each client module passes its own Tag and constructor, so this module imports no SDK client.
 *
 * @category constructors
 */
export const scopedClient = <I, C extends { readonly destroy: () => void }>(
  tag: Context.Tag<I, C>,
  make: () => C
): Layer.Layer<I, ConfigError.ConfigError> =>
  Layer.scoped(
    tag,
    Effect.acquireRelease(
      // the SDK checks part of its configuration in the constructor (an empty region throws "Region is missing")
      Effect.try({
        try: make,
        catch: (cause) =>
          ConfigError.InvalidData([], `${tag.key}: ${cause instanceof Error ? cause.message : String(cause)}`)
      }),
      (c) => Effect.sync(() => c.destroy())
    )
  )
