/**
 * All three AWS SDK clients (S3, Glue, Athena) as scoped services, and their configuration. Each
 * client also has a module of its own (`ClientS3`, `ClientGlue`, `ClientAthena`): import those when
 * you need one client only, so the others are never loaded. The tags are the same classes.
 *
 * Credentials come from the SDK's default chain (env, shared files, the Lambda role) unless given
 * explicitly (tests against s3rver).
 *
 * @since 0.1.0
 */
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ClientAthena from "./ClientAthena.js"
import type { AwsClientsConfig } from "./ClientConfig.js"
import { config } from "./ClientConfig.js"
import * as ClientGlue from "./ClientGlue.js"
import * as ClientS3 from "./ClientS3.js"

export { Athena } from "./ClientAthena.js"
export type { AwsClientsConfig } from "./ClientConfig.js"
export { config } from "./ClientConfig.js"
export { Glue } from "./ClientGlue.js"
export { S3, s3Options } from "./ClientS3.js"

/** @category layers */
export const layerS3 = ClientS3.layer
/** @category layers */
export const layerGlue = ClientGlue.layer
/** @category layers */
export const layerAthena = ClientAthena.layer
/** @category layers */
export const layerS3Config = ClientS3.layerConfig
/** @category layers */
export const layerGlueConfig = ClientGlue.layerConfig
/** @category layers */
export const layerAthenaConfig = ClientAthena.layerConfig

/** All three clients. @category layers */
export const layer = (
  config: AwsClientsConfig
): Layer.Layer<ClientS3.S3 | ClientGlue.Glue | ClientAthena.Athena, ConfigError.ConfigError> =>
  Layer.mergeAll(ClientS3.layer(config), ClientGlue.layer(config), ClientAthena.layer(config))

/** @category layers */
export const layerConfig = (
  cfg: Config.Config<AwsClientsConfig> = config
): Layer.Layer<ClientS3.S3 | ClientGlue.Glue | ClientAthena.Athena, ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(cfg, layer))
