/**
 * The part of `b3 query` that needs the query engine: run the SQL, collect its rows, print them.
 * Loaded by `query.ts`'s handler on first use (a dynamic import of this module, not of `effect/Stream`
 * or core's `QueryEngine` module as a whole: the bundle keeps only what is used here, which is what
 * the quick path of `b3 query` loads).
 *
 * @since 0.1.0
 */
import { QueryEngine } from "@b3-pipeline/core/QueryEngine"
import type { QueryError } from "@b3-pipeline/core/QueryEngine"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { Format } from "../Output.js"
import { render } from "../Output.js"
import * as Stdio from "../Stdio.js"

/** Runs `sql` on the target's engine and prints the result in `format` on stdout. @category commands */
export const runAndPrint = (sql: string, format: Format): Effect.Effect<void, QueryError, QueryEngine> =>
  Effect.gen(function*() {
    const result = yield* Effect.flatMap(QueryEngine, (engine) => engine.query(sql))
    const rows = Chunk.toReadonlyArray(yield* Stream.runCollect(result.rows))
    yield* Stdio.out(render(format, result.columns, rows))
  })
