/**
 * `--target local` (the default): the warehouse folder's adapters (`LocalLive`) and the in-process
 * refresher. Loaded lazily by `Env.layerLocal`.
 *
 * @since 0.1.0
 */
import * as LocalLive from "@b3-pipeline/local-adapter/LocalLive"
import { LocalTrigger } from "@b3-pipeline/local-adapter/LocalTrigger"
import type { RefineSqlError } from "@b3-pipeline/local-adapter/RefineSql"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { Services } from "./Env.js"
import { Refresher } from "./Env.js"

const refresher = Layer.effect(
  Refresher,
  Effect.map(LocalTrigger, (trigger) => ({ description: "refined in process (DuckDB)", afterBatch: trigger.flush }))
)

/** @category layers */
export const layer = (warehouse: string): Layer.Layer<Services, RefineSqlError> =>
  refresher.pipe(Layer.provideMerge(LocalLive.layer({ warehouse })))
