/**
 * `b3 status`: what the warehouse holds (indices and dates of the raw table, refined partitions), the
 * last runs and the quarantined payloads. Read from the object store and catalog only, so it works the
 * same on the local warehouse and on S3.
 *
 * @since 0.1.0
 */
import * as B3Calendar from "@b3-pipeline/core/B3Calendar"
import { Catalog } from "@b3-pipeline/core/Catalog"
import type { RefDate } from "@b3-pipeline/core/Domain"
import { ObjectStore, type ObjectStoreError } from "@b3-pipeline/core/ObjectStore"
import { parseRawParquetKey, QUARANTINE_PREFIX, RAW_PREFIX, REFINED_TABLE } from "@b3-pipeline/core/Tables"
import * as Trigger from "@b3-pipeline/core/Trigger"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"

const rawPartitions = Effect.flatMap(ObjectStore, (store) => Stream.runCollect(store.list(RAW_PREFIX))).pipe(
  Effect.map((infos) =>
    Chunk.toReadonlyArray(infos).flatMap((i) => {
      const p = parseRawParquetKey(i.key)
      return p === undefined ? [] : [p]
    })
  )
)

/** Every date in the raw table, ascending. @category queries */
export const rawDates: Effect.Effect<ReadonlyArray<RefDate>, ObjectStoreError, ObjectStore> = Effect.map(
  rawPartitions,
  (ps) => [...new Set(ps.map((p) => p.refDate))].sort()
)

const decoder = new TextDecoder()

/** What `b3 status` reads of a run record (`Batch.recordRun`'s `BatchSummary`). */
const RunRecord = Schema.parseJson(Schema.Struct({
  command: Schema.String,
  startedAt: Schema.String,
  items: Schema.Array(Schema.Struct({ label: Schema.String, error: Schema.optional(Schema.String) })),
  refines: Schema.Array(Schema.Unknown),
  refineError: Schema.optional(Schema.String)
}))
const decodeRunRecord = Schema.decodeUnknownEither(RunRecord)

const staleWhy: Record<Trigger.StaleReason, string> = {
  NotRefined: "never refined, or its refine did not finish",
  RawChanged: "raw data written or replaced since its refine",
  PreviousChanged: "an earlier date was backfilled or removed",
  NoRawData: "refined, but its raw data is gone",
  BadManifest: "its refine manifest is unreadable"
}

/** The staleness lines: whether the refined table matches the raw table, and how to fix it. */
const staleLines = (f: Trigger.Freshness): Array<string> => {
  if (f.stale.length === 0) {
    return f.raw.byDate.size === 0 ? [] : ["refined table: up to date with the raw table (no stale date)"]
  }
  const lines = [`refined table: ${f.stale.length} STALE date(s), not what the raw table implies:`]
  for (const s of f.stale.slice(0, 10)) lines.push(`  ${s.refDate}  ${staleWhy[s.reason]}`)
  if (f.stale.length > 10) lines.push(`  ... and ${f.stale.length - 10} more`)
  lines.push("  fix: `b3 refine` (refines exactly the stale dates)")
  return lines
}

/**
 * Per index, the B3 trading days missing between its first and last date (B3's calendar, not the
 * national one: `B3Calendar`).
 */
const missingDaysLines = (byIndex: ReadonlyMap<string, ReadonlyArray<string>>): Array<string> => {
  const lines = ["trading days missing between each index's first and last date (B3 calendar):"]
  for (const [code, dates] of [...byIndex.entries()].sort()) {
    const missing = B3Calendar.missingTradingDays(dates)
    const shown = missing.slice(0, 6).join(", ") + (missing.length > 6 ? `, ... (${missing.length - 6} more)` : "")
    lines.push(`  ${code.padEnd(5)}  ${missing.length === 0 ? "none" : `${missing.length}: ${shown}`}`)
  }
  const uncovered = [...byIndex.values()].flat().filter((d) => !B3Calendar.covers(d))
  if (uncovered.length > 0) {
    lines.push(
      `  (the holiday list covers ${B3Calendar.FIRST_YEAR}-${B3Calendar.LAST_YEAR}; outside it only weekends are known)`
    )
  }
  return lines
}

/** The status text. @category rendering */
export const report = Effect.gen(function*() {
  const store = yield* ObjectStore
  const catalog = yield* Catalog
  const parts = yield* rawPartitions
  const lines: Array<string> = [`warehouse: ${store.bucket}`]
  if (parts.length === 0) {
    lines.push("raw table: empty. Start with `npx b3 run --source simulated` (offline) or `npx b3 ingest --file F`.")
  } else {
    const byIndex = new Map<string, Array<string>>()
    for (const p of parts) byIndex.set(p.indexCode, [...(byIndex.get(p.indexCode) ?? []), p.refDate])
    const dates = [...new Set(parts.map((p) => p.refDate))].sort()
    lines.push(
      `raw table: ${byIndex.size} indices, ${dates.length} dates (${dates[0]} .. ${
        dates[dates.length - 1]
      }), ${parts.length} partitions`
    )
    lines.push("  index  dates  first       last")
    for (const [code, ds] of [...byIndex.entries()].sort()) {
      ds.sort()
      lines.push(`  ${code.padEnd(5)}  ${String(ds.length).padStart(5)}  ${ds[0]}  ${ds[ds.length - 1]}`)
    }
    lines.push(...missingDaysLines(byIndex))
  }
  const refined = yield* Effect.either(catalog.listPartitions(REFINED_TABLE))
  if (refined._tag === "Right") {
    const dates = new Set(refined.right.map((p) => p.values[0]))
    lines.push(`refined table: ${dates.size} dates, ${refined.right.length} (date, ticker) partitions`)
  } else {
    lines.push("refined table: not created yet (no refine has run)")
  }
  lines.push(...staleLines(yield* Trigger.freshness))
  const runs = Chunk.toReadonlyArray(yield* Stream.runCollect(store.list("runs/"))).slice(-5)
  if (runs.length > 0) lines.push("last runs:")
  for (const r of runs) {
    const body = yield* store.get(r.key)
    if (Option.isNone(body)) continue
    const decoded = decodeRunRecord(decoder.decode(body.value))
    if (Either.isLeft(decoded)) {
      lines.push(`  ${r.key}: unreadable run record`)
      continue
    }
    const s = decoded.right
    const failed = s.items.filter((i) => i.error !== undefined)
    lines.push(
      `  ${s.startedAt}  ${s.command.padEnd(7)} ${s.items.length - failed.length} ok, ${failed.length} failed` +
        `${s.refineError !== undefined ? ", refine FAILED" : `, ${s.refines.length} refine(s)`}`
    )
    for (const f of failed.slice(0, 3)) lines.push(`      failed ${f.label}: ${f.error}`)
    if (s.command === "forget") { for (const i of s.items) lines.push(`      ${i.label}`) }
  }
  const quarantined = Chunk.toReadonlyArray(yield* Stream.runCollect(store.list(QUARANTINE_PREFIX)))
    .filter((i) => i.key.endsWith("error.json"))
  lines.push(`quarantine: ${quarantined.length} payload(s) that failed to parse`)
  for (const q of quarantined.slice(-5)) lines.push(`  ${q.key}`)
  return lines.join("\n") + "\n"
})
