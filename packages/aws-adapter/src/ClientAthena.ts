/**
 * The Athena client as a scoped service: built once per layer, destroyed (sockets closed) when the layer's
 * scope closes, with `maxAttempts: 1` (retries are owned by the adapters' Effect schedules). Imports
 * only `@aws-sdk/client-athena`.
 *
 * @since 0.1.0
 */
import { AthenaClient } from "@aws-sdk/client-athena"
import type * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { AwsClientsConfig } from "./ClientConfig.js"
import { common, config, scopedClient } from "./ClientConfig.js"

/** @category tags */
export class Athena extends Context.Tag("@b3-pipeline/aws-adapter/Athena")<Athena, AthenaClient>() {}

/** @category layers */
export const layer = (config: AwsClientsConfig): Layer.Layer<Athena, ConfigError.ConfigError> =>
  scopedClient(Athena, () =>
    new AthenaClient({
      ...common(config),
      ...(config.athenaEndpoint !== undefined ? { endpoint: config.athenaEndpoint } : {})
    }))

/** @category layers */
export const layerConfig = (
  cfg: Config.Config<AwsClientsConfig> = config
): Layer.Layer<Athena, ConfigError.ConfigError> => Layer.unwrapEffect(Effect.map(cfg, layer))
