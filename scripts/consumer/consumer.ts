// A TypeScript consumer, type-checked with strict + the default lib (DOM included), once with
// NodeNext and once with Bundler resolution. Errors are told apart with catchTags: core's
// B3ParseError and Effect Schema's own ParseError sit in one error channel.
import type * as B3ParseError from "@b3-pipeline/core/B3ParseError"
import { ObjectStoreError } from "@b3-pipeline/core/ObjectStore"
import * as Payloads from "@b3-pipeline/core/Payloads"
import * as Pipeline from "@b3-pipeline/core/Pipeline"
import * as LocalLive from "@b3-pipeline/local-adapter/LocalLive"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"

const Options = Schema.Struct({ file: Schema.String, warehouse: Schema.String })

export const ingestFile = (input: unknown): Effect.Effect<string> =>
  Schema.decodeUnknown(Options)(input).pipe(
    Effect.flatMap(({ file, warehouse }) =>
      Payloads.fromFile(file).pipe(
        Effect.flatMap(Pipeline.ingestPayload),
        Effect.map((write) => `${write.outcome}: ${write.rows} rows`),
        Effect.provide(LocalLive.layer({ warehouse }))
      )
    ),
    Effect.catchTags({
      // Effect Schema's ParseError: the options were wrong
      ParseError: (e) => Effect.succeed(`bad options: ${e.message}`),
      // core's parse error: the payload was wrong (quarantined), with a typed reason
      B3ParseError: (e) => {
        const reason: B3ParseError.B3ParseErrorReason = e.reason
        return Effect.succeed(`rejected (${reason}) at row ${e.row ?? "-"}: ${e.detail}`)
      },
      // a wrapping error keeps its cause typed; retryable follows it
      RawLayerError: (e) =>
        Effect.succeed(
          e.cause instanceof ObjectStoreError ?
            `store failed (${e.cause.reason}), retryable: ${e.retryable}` :
            `raw layer failed: ${e.message}`
        ),
      PayloadInputError: (e) => Effect.succeed(`cannot read ${e.path ?? "?"}: ${e.reason}`),
      RefineSqlError: (e) => Effect.succeed(`refine SQL missing: ${e.file}`),
      // the warehouse's query engine (DuckDB) fails when the layer is built
      QueryError: (e) => Effect.succeed(`query engine failed (${e.reason}): ${e.message}`)
    }),
    Effect.provide(NodeFileSystem.layer)
  )
