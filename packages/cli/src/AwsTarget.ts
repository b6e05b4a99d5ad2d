/**
 * `--target aws`: the AWS adapters, configured from the environment (see the README's "On AWS").
 * Loaded lazily so local runs never load the AWS SDK.
 *
 * @since 0.1.0
 */
import * as AwsLive from "@b3-pipeline/aws-adapter/AwsLive"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Refresher } from "./Env.js"

/** @category layers */
export const layer = Layer.merge(
  AwsLive.layerConfig,
  Layer.succeed(Refresher, {
    description: "refined by the Glue job that the S3 event starts",
    afterBatch: Effect.succeed([])
  })
)
