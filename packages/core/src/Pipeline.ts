/**
 * The pipeline as plain functions over the ports: fetch -> parse -> write raw -> (object event)
 * -> refine -> query. Each function's `R` names only the ports it uses; it never imports an
 * adapter, so the same code runs in memory, locally and on AWS.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as B3Wire from "./B3Wire.js"
import type { S3EventRecord } from "./ObjectStore.js"
import type { FetchRequest, Payload } from "./PortfolioSource.js"
import { PortfolioSource } from "./PortfolioSource.js"
import * as QueryEngine from "./QueryEngine.js"
import { RawLayer, RawLayerError } from "./RawLayer.js"
import * as Trigger from "./Trigger.js"

/**
 * Decodes a payload, checks its size and plausibility (`B3Wire.decodeForIngest`), and writes it to the raw
 * layer. A payload that does not parse or is implausible is quarantined (exact bytes +
 * `error.json`) and the `B3ParseError` is the failure; the bytes are never lost. When the quarantine
 * itself cannot be written, the failure is a `RawLayerError` that names the parse error too.
 * Use it for saved files (`ingest` fetches first).
 *
 * @category stages
 */
export const ingestPayload = Effect.fn("Pipeline.ingestPayload")(
  function*(payload: Payload, options?: B3Wire.IngestOptions) {
    const raw = yield* RawLayer
    const portfolio = yield* B3Wire.decodeForIngest(payload, options).pipe(
      Effect.tapError((error) =>
        raw.quarantine(payload, error).pipe(
          Effect.mapError((w) =>
            new RawLayerError({
              reason: w.reason,
              method: w.method,
              ...(w.key !== undefined ? { key: w.key } : {}),
              detail: `${w.detail ?? "write failed"}; the payload, which failed to parse (${error.message}), ` +
                "is NOT quarantined",
              cause: w
            })
          )
        )
      )
    )
    return yield* raw.write(payload, portfolio)
  }
)

/**
 * Fetches a portfolio and ingests it (`ingestPayload`).
 *
 * @category stages
 */
export const ingest = Effect.fn("Pipeline.ingest")(function*(request: FetchRequest, options?: B3Wire.IngestOptions) {
  const source = yield* PortfolioSource
  const payload = yield* source.fetch(request)
  return yield* ingestPayload(payload, options)
})

/**
 * The trigger (`Trigger.onRawObject`): an object-created record for a raw Parquet key starts the
 * refines it implies (its date, and each index's next date after a backfill): `Some(runs)`; any
 * other key (payload archive, refined files, manifests, quarantine) is ignored (`None`).
 *
 * @category stages
 */
export const onRawObject = (record: S3EventRecord) =>
  Trigger.onRawObject(record).pipe(Effect.withSpan("Pipeline.onRawObject"))

/**
 * Runs SQL on the query engine; rows stream.
 *
 * @category stages
 */
export const query = Effect.fn("Pipeline.query")(function*(sql: string) {
  const engine = yield* QueryEngine.QueryEngine
  return yield* engine.query(sql)
})

/**
 * Runs SQL and collects every row.
 *
 * @category stages
 */
export const queryAll = Effect.fn("Pipeline.queryAll")(function*(sql: string) {
  return yield* QueryEngine.collect(sql)
})
