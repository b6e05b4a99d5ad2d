/**
 * The AWS SDK v3 clients as scoped services: built once per layer, destroyed (sockets closed) when
 * the layer's scope closes. Every client has `maxAttempts: 1`: retries are owned by the Effect
 * schedules of the adapters (one retry owner), never by the SDK.
 *
 * Credentials come from the SDK's default chain (env, shared files, the Lambda role) unless given
 * explicitly (tests against s3rver).
 *
 * @since 0.1.0
 */
import { AthenaClient } from "@aws-sdk/client-athena"
import { GlueClient } from "@aws-sdk/client-glue"
import { S3Client } from "@aws-sdk/client-s3"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
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

/** @category tags */
export class S3 extends Context.Tag("@b3-pipeline/aws-adapter/S3")<S3, S3Client>() {}
/** @category tags */
export class Glue extends Context.Tag("@b3-pipeline/aws-adapter/Glue")<Glue, GlueClient>() {}
/** @category tags */
export class Athena extends Context.Tag("@b3-pipeline/aws-adapter/Athena")<Athena, AthenaClient>() {}

const common = (config: AwsClientsConfig) => ({
  region: config.region,
  maxAttempts: 1,
  ...(config.credentials !== undefined ? { credentials: { ...config.credentials } } : {})
})

/** The options the S3 client is built with (exported for tests and the bench). @category constructors */
export const s3Options = (config: AwsClientsConfig) => ({
  ...common(config),
  ...(config.s3Endpoint !== undefined ?
    {
      endpoint: config.s3Endpoint,
      forcePathStyle: config.forcePathStyle ?? true,
      // S3-compatible stores rarely speak the SDK's default aws-chunked CRC trailers.
      requestChecksumCalculation: "WHEN_REQUIRED" as const,
      responseChecksumValidation: "WHEN_REQUIRED" as const
    } :
    config.forcePathStyle !== undefined ?
    { forcePathStyle: config.forcePathStyle } :
    {})
})

/** @category layers */
export const layerS3 = (config: AwsClientsConfig): Layer.Layer<S3> =>
  Layer.scoped(
    S3,
    Effect.acquireRelease(Effect.sync(() => new S3Client(s3Options(config))), (c) => Effect.sync(() => c.destroy()))
  )

/** @category layers */
export const layerGlue = (config: AwsClientsConfig): Layer.Layer<Glue> =>
  Layer.scoped(
    Glue,
    Effect.acquireRelease(
      Effect.sync(() =>
        new GlueClient({
          ...common(config),
          ...(config.glueEndpoint !== undefined ? { endpoint: config.glueEndpoint } : {})
        })
      ),
      (c) => Effect.sync(() => c.destroy())
    )
  )

/** @category layers */
export const layerAthena = (config: AwsClientsConfig): Layer.Layer<Athena> =>
  Layer.scoped(
    Athena,
    Effect.acquireRelease(
      Effect.sync(() =>
        new AthenaClient({
          ...common(config),
          ...(config.athenaEndpoint !== undefined ? { endpoint: config.athenaEndpoint } : {})
        })
      ),
      (c) => Effect.sync(() => c.destroy())
    )
  )

/** All three clients. @category layers */
export const layer = (config: AwsClientsConfig): Layer.Layer<S3 | Glue | Athena> =>
  Layer.mergeAll(layerS3(config), layerGlue(config), layerAthena(config))

/**
 * The client configuration from the environment: `AWS_REGION` (falling back to
 * `AWS_DEFAULT_REGION`, then `us-east-1`), `B3_S3_ENDPOINT` (optional), `B3_S3_FORCE_PATH_STYLE`
 * (optional boolean), `B3_GLUE_ENDPOINT` / `B3_ATHENA_ENDPOINT` (optional: local stubs, benches).
 *
 * @category config
 */
export const config: Config.Config<AwsClientsConfig> = /* @__PURE__ */ Config.all({
  region: Config.string("AWS_REGION").pipe(
    Config.orElse(() => Config.string("AWS_DEFAULT_REGION")),
    Config.withDefault("us-east-1")
  ),
  s3Endpoint: Config.option(Config.string("B3_S3_ENDPOINT")),
  forcePathStyle: Config.option(Config.boolean("B3_S3_FORCE_PATH_STYLE")),
  glueEndpoint: Config.option(Config.string("B3_GLUE_ENDPOINT")),
  athenaEndpoint: Config.option(Config.string("B3_ATHENA_ENDPOINT"))
}).pipe(Config.map(({ athenaEndpoint, forcePathStyle, glueEndpoint, region, s3Endpoint }) => ({
  region,
  s3Endpoint: Option.getOrUndefined(s3Endpoint),
  forcePathStyle: Option.getOrUndefined(forcePathStyle),
  glueEndpoint: Option.getOrUndefined(glueEndpoint),
  athenaEndpoint: Option.getOrUndefined(athenaEndpoint)
})))

/** @category layers */
export const layerS3Config = (
  cfg: Config.Config<AwsClientsConfig> = config
): Layer.Layer<S3, ConfigError.ConfigError> => Layer.unwrapEffect(Effect.map(cfg, layerS3))

/** @category layers */
export const layerGlueConfig = (
  cfg: Config.Config<AwsClientsConfig> = config
): Layer.Layer<Glue, ConfigError.ConfigError> => Layer.unwrapEffect(Effect.map(cfg, layerGlue))

/** @category layers */
export const layerAthenaConfig = (
  cfg: Config.Config<AwsClientsConfig> = config
): Layer.Layer<Athena, ConfigError.ConfigError> => Layer.unwrapEffect(Effect.map(cfg, layerAthena))

/** @category layers */
export const layerConfig = (
  cfg: Config.Config<AwsClientsConfig> = config
): Layer.Layer<S3 | Glue | Athena, ConfigError.ConfigError> => Layer.unwrapEffect(Effect.map(cfg, layer))
