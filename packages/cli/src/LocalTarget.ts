/**
 * `--target local` (the default): the warehouse folder's adapters (`LocalLive`) and the in-process
 * refresher. Loaded lazily by `Env.layerLocal`.
 *
 * @since 0.1.0
 */
import type { QueryError } from "@b3-pipeline/core/QueryEngine"
import * as LocalLive from "@b3-pipeline/local-adapter/LocalLive"
import { LocalTrigger } from "@b3-pipeline/local-adapter/LocalTrigger"
import type { RefineSqlError } from "@b3-pipeline/local-adapter/RefineSql"
import * as WriterLock from "@b3-pipeline/local-adapter/WriterLock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Runtime from "effect/Runtime"
import type { Services } from "./Refresher.js"
import { Refresher } from "./Refresher.js"
import * as Stdio from "./Stdio.js"

const refresher = (warehouse: string) =>
  Layer.effect(
    Refresher,
    Effect.map(LocalTrigger, (trigger) => ({
      description: "refined in process (DuckDB)",
      afterBatch: trigger.flush,
      reconcile: trigger.reconcile,
      inProcess: true,
      exclusive: (command: string, options: { readonly wait: boolean; readonly clean?: boolean }) =>
        Effect.gen(function*() {
          const runtime = yield* Effect.runtime<never>()
          const lock = yield* WriterLock.acquire(warehouse, {
            command,
            wait: options.wait,
            onWait: (holder) =>
              Runtime.runSync(runtime)(
                Stdio.err(`b3: waiting for the writer lock of ${warehouse}, held by ${holder}\n`)
              )
          })
          if (lock.recovered || options.clean === true) {
            const removed = yield* WriterLock.cleanLeftovers(warehouse)
            if (lock.recovered) {
              yield* Stdio.err(
                `b3: the previous writer did not finish; removed ${removed.length} leftover(s), stale dates are refined below\n`
              )
            }
          }
        })
    }))
  )

/** @category layers */
export const layer = (warehouse: string): Layer.Layer<Services, RefineSqlError | QueryError> =>
  refresher(warehouse).pipe(Layer.provideMerge(LocalLive.layer({ warehouse })))
