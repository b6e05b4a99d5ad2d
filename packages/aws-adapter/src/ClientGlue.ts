/**
 * The Glue client as a scoped service: built once per layer, destroyed (sockets closed) when the layer's
 * scope closes, with `maxAttempts: 1` (retries are owned by the adapters' Effect schedules). Imports
 * only `@aws-sdk/client-glue`.
 *
 * @since 0.1.0
 */
import { GlueClient } from "@aws-sdk/client-glue"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { AwsClientsConfig } from "./ClientConfig.js"
import { common, config, scopedClient } from "./ClientConfig.js"

/** @category tags */
export class Glue extends Context.Tag("@b3-pipeline/aws-adapter/Glue")<Glue, GlueClient>() {}

/** @category layers */
export const layer = (config: AwsClientsConfig): Layer.Layer<Glue, ConfigError.ConfigError> =>
  scopedClient(Glue, () =>
    new GlueClient({
      ...common(config),
      ...(config.glueEndpoint !== undefined ? { endpoint: config.glueEndpoint } : {})
    }))

/** @category layers */
export const layerConfig = (
  cfg: Config.Config<AwsClientsConfig> = config
): Layer.Layer<Glue, ConfigError.ConfigError> => Layer.unwrapEffect(Effect.map(cfg, layer))
