/**
 * `--target aws`: the AWS adapters, configured from the environment (see the README's "On AWS").
 * Loaded lazily so local runs never load the AWS SDK.
 *
 * @since 0.1.0
 */
import * as AwsLive from "@b3-pipeline/aws-adapter/AwsLive"
import type { ObjectStore } from "@b3-pipeline/core/ObjectStore"
import type { RefineJob } from "@b3-pipeline/core/RefineJob"
import * as Trigger from "@b3-pipeline/core/Trigger"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { Refresher } from "./Refresher.js"

/** @category layers */
export const layer = Layer.merge(
  AwsLive.layerConfig,
  Layer.effect(
    Refresher,
    Effect.map(Effect.context<ObjectStore | RefineJob>(), (context) => ({
      description: "refined by the Glue job that the S3 event starts",
      afterBatch: Effect.succeed([]),
      reconcile: (options: Trigger.ReconcileOptions) => Trigger.reconcile(options).pipe(Effect.provide(context)),
      inProcess: false,
      exclusive: () => Effect.void
    }))
  ).pipe(Layer.provide(AwsLive.layerConfig))
)
