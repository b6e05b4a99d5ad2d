/**
 * The S3 client as a scoped service: built once per layer, destroyed (sockets closed) when the layer's
 * scope closes, with `maxAttempts: 1` (retries are owned by the adapters' Effect schedules). Imports
 * only `@aws-sdk/client-s3`.
 *
 * @since 0.1.0
 */
import { S3Client } from "@aws-sdk/client-s3"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { AwsClientsConfig } from "./ClientConfig.js"
import { common, config, scopedClient } from "./ClientConfig.js"

/** @category tags */
export class S3 extends Context.Tag("@b3-pipeline/aws-adapter/S3")<S3, S3Client>() {}

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
export const layer = (config: AwsClientsConfig): Layer.Layer<S3, ConfigError.ConfigError> =>
  scopedClient(S3, () => new S3Client(s3Options(config)))

/** @category layers */
export const layerConfig = (
  cfg: Config.Config<AwsClientsConfig> = config
): Layer.Layer<S3, ConfigError.ConfigError> => Layer.unwrapEffect(Effect.map(cfg, layer))
