/**
 * What every ingesting command shares: ingest a list of inputs through the pipeline, keep going past
 * failures (quarantined by the pipeline), refine the dates written once, record the run, and print a
 * one-screen summary. Exit code 1 when any input failed.
 *
 * @since 0.1.0
 */
import { B3ParseError } from "@b3-pipeline/core/B3ParseError"
import { ObjectStore, unsafeKey } from "@b3-pipeline/core/ObjectStore"
import type { RawWrite } from "@b3-pipeline/core/RawLayer"
import type { RefineRun } from "@b3-pipeline/core/RefineJob"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { progressMaker } from "./Output.js"
import { Refresher } from "./Refresher.js"

/** One input of a batch: a label for messages and the effect that ingests it. @category models */
export interface Item<E, R> {
  readonly label: string
  readonly ingest: Effect.Effect<RawWrite, E, R>
  /** Items of one group never run at the same time: each starts after the previous one (list order). */
  readonly group?: string
}

/** @category models */
export interface ItemResult {
  readonly label: string
  readonly write?: RawWrite
  readonly error?: string
  /** The failure's tag (`B3ParseError`, `InputError`, `RawLayerError`...). */
  readonly errorTag?: string
  /** A parse error's reason (`NotB3Csv`, `ImplausibleDate`...). */
  readonly reason?: string
  /** True when the payload's bytes were kept under `quarantine/` (every `B3ParseError` of the pipeline). */
  readonly quarantined?: boolean
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

const resultOf = (label: string, e: unknown): ItemResult => {
  const tag = typeof e === "object" && e !== null && "_tag" in e && typeof e._tag === "string" ? e._tag : undefined
  return {
    label,
    error: messageOf(e),
    ...(tag !== undefined ? { errorTag: tag } : {}),
    ...(e instanceof B3ParseError ? { reason: e.reason, quarantined: true } : {})
  }
}

/** Chains the items of each group: an item waits for the previous item of its group to finish. */
const chainGroups = <E, R>(items: ReadonlyArray<Item<E, R>>) =>
  Effect.gen(function*() {
    const last = new Map<string, Deferred.Deferred<void>>()
    const out: Array<Item<E, R>> = []
    for (const item of items) {
      if (item.group === undefined) {
        out.push(item)
        continue
      }
      const before = last.get(item.group)
      const done = yield* Deferred.make<void>()
      last.set(item.group, done)
      out.push({
        ...item,
        ingest: Effect.zipRight(before !== undefined ? Deferred.await(before) : Effect.void, item.ingest).pipe(
          Effect.ensuring(Deferred.succeed(done, undefined))
        )
      })
    }
    return out
  })

const messageOf = (e: unknown): string =>
  typeof e === "object" && e !== null && "message" in e && typeof e.message === "string" && e.message !== "" ?
    e.message :
    String(e)

/** The clock's time as ISO text (a run's `startedAt`, `finishedAt`). @category running */
export const isoNow: Effect.Effect<string> = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

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
    const startedAt = yield* isoNow
    const progress = options.progress === true && items.length > 1 ?
      (yield* progressMaker())(command, items.length) :
      undefined
    let done = 0
    const chained = yield* chainGroups(items)
    const results = yield* Effect.forEach(chained, (item) =>
      Effect.either(item.ingest).pipe(
        Effect.map((r): ItemResult =>
          Either.isRight(r) ? { label: item.label, write: r.right } : resultOf(item.label, r.left)
        ),
        Effect.tap((r) => Effect.sync(() => progress?.update(++done, r.label)))
      ), { concurrency: options.concurrency ?? 1 })
    progress?.done()
    const refresher = yield* Refresher
    const refined = yield* Effect.either(refresher.afterBatch)
    const summary: BatchSummary = {
      command,
      startedAt,
      finishedAt: yield* isoNow,
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
  const ok = summary.items.flatMap((i) => i.write !== undefined ? [{ label: i.label, write: i.write }] : [])
  const failed = summary.items.filter((i) => i.error !== undefined)
  const count = (o: string) => ok.filter((i) => i.write.outcome === o).length
  const rows = ok.reduce((n, i) => n + i.write.rows, 0)
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
      const r = i.write
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
  for (const f of failed) {
    lines.push(`FAILED ${f.label}: ${f.error}${f.quarantined === true ? " [quarantined]" : ""}`)
  }
  const quarantined = failed.filter((f) => f.quarantined === true).length
  if (quarantined > 0) {
    lines.push(
      `${quarantined} payload(s) that failed to parse or were implausible are kept under quarantine/ with their error beside them.`
    )
  }
  return lines.join("\n") + "\n"
}
