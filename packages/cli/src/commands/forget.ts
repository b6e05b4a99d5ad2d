/**
 * `b3 forget --index C --date D`: takes one (index, date) out of the tables, for a payload that should
 * never have been ingested (a wrong date, a wrong index). The raw Parquet partition and its catalog
 * entry go; the payload bytes stay in the archive (`raw/b3_portfolio_payloads/`), so nothing B3 sent
 * is lost and a replay can bring it back. Then the refined table is brought back in line: the date,
 * and the index's next date (whose `days_since_previous_snapshot` counted from the forgotten one), are
 * refined again (`Trigger`'s rule). The action is kept in the run log (`runs/`, shown by `b3 status`).
 *
 * @since 0.1.0
 */
import { Catalog } from "@b3-pipeline/core/Catalog"
import { IndexCode, RefDate } from "@b3-pipeline/core/Domain"
import { ObjectStore } from "@b3-pipeline/core/ObjectStore"
import type { RefineJobError, RefineRun } from "@b3-pipeline/core/RefineJob"
import { RefineJob } from "@b3-pipeline/core/RefineJob"
import { PAYLOAD_PREFIX, RAW_TABLE, rawParquetKey } from "@b3-pipeline/core/Tables"
import * as Trigger from "@b3-pipeline/core/Trigger"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import { isoNow, recordRun } from "../Batch.js"
import type { BatchSummary } from "../Batch.js"
import type { Target } from "../Globals.js"
import { Refresher } from "../Refresher.js"
import * as Stdio from "../Stdio.js"
import { decodeWith, UsageError } from "../Usage.js"

const messageOf = (e: unknown): string =>
  typeof e === "object" && e !== null && "message" in e && typeof e.message === "string" ? e.message : String(e)

/** @category commands */
export const handler = (o: { readonly index: string; readonly date: string }, target: Target) =>
  Effect.gen(function*() {
    const indexCode = yield* decodeWith(IndexCode, "index code")(o.index.toUpperCase())
    const refDate = yield* decodeWith(RefDate, "date (want YYYY-MM-DD)")(o.date)
    const store = yield* ObjectStore
    const key = rawParquetKey(refDate, indexCode)
    const raw = yield* Trigger.readRawState
    if (!(raw.byIndex.get(indexCode) ?? []).includes(refDate)) {
      return yield* new UsageError({
        detail: `nothing to forget: the raw table holds no ${indexCode} on ${refDate} (b3 status lists what it holds)`
      })
    }
    const startedAt = yield* isoNow
    const archive = `${PAYLOAD_PREFIX}ref_date=${refDate}/index_code=${indexCode}/`
    const payloads = new Set(
      Chunk.toReadonlyArray(yield* Stream.runCollect(store.list(archive))).map((i) =>
        i.key.slice(archive.length).split("/")[0]
      )
    )

    yield* store.delete(key)
    const catalog = yield* Catalog
    yield* Effect.ignore(catalog.dropPartitions(RAW_TABLE, [[refDate, indexCode]]))

    // the refine: locally the trigger refines every stale date (this one and the index's next);
    // on AWS the refine job is started for the same dates (deletes start no S3-event refine)
    const implied = Trigger.impliedDates({ refDate, indexCode }, raw)
    const refine: Effect.Effect<ReadonlyArray<RefineRun>, RefineJobError, Refresher | RefineJob> = target === "local" ?
      Effect.flatMap(Refresher, (r) => r.afterBatch) :
      Effect.flatMap(RefineJob, (job) => Effect.forEach(implied, (d) => job.start({ refDate: d })))
    const refined = yield* Effect.either(refine)
    const runs: ReadonlyArray<RefineRun> = Either.getOrElse(refined, () => [])
    const label = `forgot ${indexCode} ${refDate}: removed ${key}; ${payloads.size} payload(s) kept under ${archive}`
    const summary: BatchSummary = {
      command: "forget",
      startedAt,
      finishedAt: yield* isoNow,
      items: [{ label }],
      refines: runs,
      ...(Either.isLeft(refined) ? { refineError: messageOf(refined.left) } : {})
    }
    yield* recordRun(summary)
    const lines = [label]
    if (runs.length > 0) {
      lines.push(
        `refine: ${
          runs.map((r) => `${r.refDate} (${r.state}${r.rows !== undefined ? `, ${r.rows} rows` : ""})`).join(", ")
        }`
      )
    }
    if (Either.isLeft(refined)) {
      lines.push(`refine FAILED: ${summary.refineError}; run \`b3 refine --date ${implied.join("` and `--date ")}\``)
    }
    yield* Stdio.out(lines.join("\n") + "\n")
    if (Either.isLeft(refined)) yield* Stdio.exitWith(1)
  })
