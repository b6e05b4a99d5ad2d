/**
 * What every ingesting command shares: ingest a list of inputs through the pipeline, keep going past
 * failures (quarantined by the pipeline), refine the dates written once, record the run, and print a
 * one-screen summary. Exit code 1 when any input failed.
 *
 * @since 0.1.0
 */
import { ObjectStore, unsafeKey } from "@b3-pipeline/core/ObjectStore"
import type { RawWrite } from "@b3-pipeline/core/RawLayer"
import type { RefineRun } from "@b3-pipeline/core/RefineJob"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { Refresher } from "./Env.js"
import { makeProgress } from "./Output.js"

/** One input of a batch: a label for messages and the effect that ingests it. @category models */
export interface Item<E, R> {
  readonly label: string
  readonly ingest: Effect.Effect<RawWrite, E, R>
}

/** @category models */
export interface ItemResult {
  readonly label: string
  readonly write?: RawWrite
  readonly error?: string
}

/** @category models */
export interface BatchSummary {
  readonly command: string
  readonly startedAt: string
  readonly finishedAt: string
  readonly items: ReadonlyArray<ItemResult>
  readonly refines: ReadonlyArray<RefineRun>
  readonly refineError?: string
}

const messageOf = (e: unknown): string =>
  typeof e === "object" && e !== null && "message" in e && typeof e.message === "string" && e.message !== "" ?
    e.message :
    String(e)

/**
 * Runs the items (bounded concurrency), then the refresh, then records the run under `runs/`.
 *
 * @category running
 */
export const runBatch = <E, R>(
  command: string,
  items: ReadonlyArray<Item<E, R>>,
  options: { readonly concurrency?: number; readonly progress?: boolean } = {}
) =>
  Effect.gen(function*() {
    const startedAt = new Date().toISOString()
    const progress = options.progress === true && items.length > 1 ? makeProgress(command, items.length) : undefined
    let done = 0
    const results = yield* Effect.forEach(items, (item) =>
      Effect.either(item.ingest).pipe(
        Effect.map((r): ItemResult =>
          Either.isRight(r) ? { label: item.label, write: r.right } : { label: item.label, error: messageOf(r.left) }
        ),
        Effect.tap((r) => Effect.sync(() => progress?.update(++done, r.label)))
      ), { concurrency: options.concurrency ?? 1 })
    progress?.done()
    const refresher = yield* Refresher
    const refined = yield* Effect.either(refresher.afterBatch)
    const summary: BatchSummary = {
      command,
      startedAt,
      finishedAt: new Date().toISOString(),
      items: results,
      refines: Either.isRight(refined) ? refined.right : [],
      ...(Either.isLeft(refined) ? { refineError: messageOf(refined.left) } : {})
    }
    yield* recordRun(summary)
    return summary
  })

const runKey = (summary: BatchSummary) =>
  unsafeKey("runs", summary.startedAt.slice(0, 10), `run-${summary.startedAt.replace(/[:.]/g, "")}.json`)

/** Keeps the run's summary in the store (`runs/<day>/run-<time>.json`) for `b3 status`. @category running */
export const recordRun = (summary: BatchSummary) =>
  Effect.flatMap(ObjectStore, (store) =>
    store.put(
      runKey(summary),
      new TextEncoder().encode(
        JSON.stringify(summary, (_k, v) => typeof v === "bigint" ? v.toString() : v, 2) + "\n"
      ),
      { contentType: "application/json" }
    )).pipe(Effect.ignore)

/** True when nothing failed. @category running */
export const succeeded = (summary: BatchSummary): boolean =>
  summary.items.every((i) => i.error === undefined) && summary.refineError === undefined

/** The one-screen summary. @category rendering */
export const formatSummary = (summary: BatchSummary, refresherDescription: string): string => {
  const lines: Array<string> = []
  const ok = summary.items.filter((i) => i.write !== undefined)
  const failed = summary.items.filter((i) => i.error !== undefined)
  const count = (o: string) => ok.filter((i) => i.write!.outcome === o).length
  const rows = ok.reduce((n, i) => n + i.write!.rows, 0)
  const seconds = (Date.parse(summary.finishedAt) - Date.parse(summary.startedAt)) / 1000
  lines.push(
    `${summary.command}: ${summary.items.length} input(s) in ${seconds.toFixed(1)} s: ${count("created")} new, ` +
      `${count("replaced")} replaced, ${
        count("unchanged")
      } already present (skipped), ${failed.length} failed; ${rows} rows`
  )
  if (ok.length > 0 && ok.length <= 40) {
    const w = Math.max(...ok.map((i) => i.label.length), 5)
    lines.push(`  ${"input".padEnd(w)}  index  ref_date    rows  outcome`)
    for (const i of ok) {
      const r = i.write!
      lines.push(
        `  ${i.label.padEnd(w)}  ${r.indexCode.padEnd(5)}  ${r.refDate}  ${String(r.rows).padStart(4)}  ${r.outcome}`
      )
    }
  }
  if (summary.refines.length > 0) {
    const dates = summary.refines.map((r) =>
      `${r.refDate} (${r.state}${r.rows !== undefined ? `, ${r.rows} rows` : ""})`
    )
    lines.push(
      `refine: ${dates.length} date(s) ${refresherDescription}: ${dates.slice(0, 8).join(", ")}${
        dates.length > 8 ? ", ..." : ""
      }`
    )
  } else if (summary.refineError === undefined && ok.length > 0) {
    lines.push(`refine: ${refresherDescription}`)
  }
  if (summary.refineError !== undefined) lines.push(`refine FAILED: ${summary.refineError}`)
  for (const f of failed) lines.push(`FAILED ${f.label}: ${f.error}`)
  if (failed.length > 0) {
    lines.push("Payloads that failed to parse are kept under quarantine/ with their error beside them.")
  }
  return lines.join("\n") + "\n"
}
