/**
 * Child process for the crash test: refines one date of a warehouse with the DuckDB job, then
 * exits. Usage: tsx refine-date.ts <warehouse> <YYYY-MM-DD>
 */
import type { RefDate } from "@b3-pipeline/core/Domain"
import { RefineJob } from "@b3-pipeline/core/RefineJob"
import { NodeContext } from "@effect/platform-node"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as DuckDbRefineJob from "../../src/DuckDbRefineJob.js"
import * as LocalCatalog from "../../src/LocalCatalog.js"

const [warehouse, refDate] = process.argv.slice(2)
const env = DuckDbRefineJob.layer({ warehouse: warehouse! }).pipe(
  Layer.provideMerge(LocalCatalog.layer(warehouse!)),
  Layer.provide(NodeContext.layer)
)
Effect.flatMap(RefineJob, (job) => job.start({ refDate: refDate as RefDate })).pipe(
  Effect.provide(env),
  Effect.runPromise
).then(
  (run) => console.log(JSON.stringify(run)),
  (e) => {
    console.error(String(e))
    process.exitCode = 1
  }
)
