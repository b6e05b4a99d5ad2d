/**
 * Reads everything `b3 report` shows through core's `QueryEngine` port: the SQL of `Sql.ts`, each
 * statement's rows decoded with its Schema of `Model.ts`.
 *
 * @since 0.1.0
 */
import type { IndexCode, RefDate, Ticker } from "@b3-pipeline/core/Domain"
import * as QueryEngine from "@b3-pipeline/core/QueryEngine"
import type { QueryError } from "@b3-pipeline/core/QueryEngine"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type {
  LoadReportOptions,
  ReportChange,
  ReportComparison,
  ReportData,
  ReportMember,
  ReportSector,
  ReportSeries
} from "./Model.js"
import { DateRow, HeaderRow, IndexRow, MemberRow, ReportError, SectorRow, SeriesRow, TickerRow } from "./Model.js"
import { sql } from "./Sql.js"

/** Runs a query and decodes its rows; a malformed value is a `QueryError` "BadRow". */
const rows = <A, I>(
  statement: string,
  schema: Schema.Schema<A, I>
): Effect.Effect<ReadonlyArray<A>, QueryError, QueryEngine.QueryEngine> =>
  Effect.map(Stream.runCollect(QueryEngine.stream(statement, schema)), Chunk.toReadonlyArray)

const DEFAULT_INDEX = "IBOV" as IndexCode
const DEFAULT_TICKER_COUNT = 5

/**
 * Reads everything the report shows. Fails with `ReportError` when the warehouse is empty, or has
 * no such index, date or ticker; with `QueryError` when the engine fails or a value is malformed.
 *
 * @category loading
 */
export const loadReportData: (
  options?: LoadReportOptions
) => Effect.Effect<ReportData, ReportError | QueryError, QueryEngine.QueryEngine> = Effect.fn("Report.loadReportData")(
  function*(options: LoadReportOptions = {}) {
    const index = options.indexCode ?? DEFAULT_INDEX

    // 1. Is there anything at all, and for this index?
    const indexes = yield* rows(sql.indexes, IndexRow).pipe(
      Effect.catchIf(
        (e) => e.reason === "NoSuchTable",
        (cause) => new ReportError({ reason: "EmptyWarehouse", cause })
      )
    )
    const present = indexes.filter((i) => i.row_count > 0)
    if (present.length === 0) return yield* new ReportError({ reason: "EmptyWarehouse" })
    if (!present.some((i) => i.index_code === index)) {
      return yield* new ReportError({
        reason: "UnknownIndex",
        indexCode: index,
        available: present.map((i) => i.index_code)
      })
    }

    // 2. The snapshots of the index, the report date and the comparison date.
    const snapshots = yield* rows(sql.dates(index), DateRow)
    const allDates = snapshots.map((s) => s.ref_date)
    // the index has rows (step 1), so it has a last date
    const refDate = options.refDate ?? allDates[allDates.length - 1]
    const at = refDate === undefined ? -1 : allDates.indexOf(refDate)
    if (refDate === undefined || at === -1) {
      return yield* new ReportError({ reason: "UnknownDate", indexCode: index, refDate, available: allDates })
    }
    let compareDate: RefDate | undefined
    if (options.compareDate !== undefined) {
      if (!allDates.includes(options.compareDate)) {
        return yield* new ReportError({
          reason: "UnknownDate",
          indexCode: index,
          refDate: options.compareDate,
          available: allDates
        })
      }
      compareDate = options.compareDate === refDate ? undefined : options.compareDate
    } else if (at > 0) {
      compareDate = allDates[at - 1]
    }

    // 3. The members on the report date, and the chosen tickers.
    const members = (yield* rows(sql.members(index, refDate), MemberRow)).map((r): ReportMember => ({
      ticker: r.ticker,
      company: r.company,
      shareClass: r.share_class,
      sector: r.sector,
      weightPct: r.weight_pct,
      theoreticalQty: r.theoretical_qty
    }))
    let tickers: ReadonlyArray<Ticker>
    if (options.tickers !== undefined && options.tickers.length > 0) {
      tickers = dedupe(options.tickers)
      const known = (yield* rows(sql.knownTickers(index, tickers), TickerRow)).map((r) => r.ticker)
      const unknown = tickers.find((t) => !known.includes(t))
      if (unknown !== undefined) {
        const all = (yield* rows(sql.allTickers(index), TickerRow)).map((r) => r.ticker)
        return yield* new ReportError({ reason: "UnknownTicker", indexCode: index, ticker: unknown, available: all })
      }
    } else {
      tickers = members.slice(0, DEFAULT_TICKER_COUNT).map((m) => m.ticker)
    }

    // 4. The rest, independent of each other.
    const [sectors, header, seriesRows, compareMembers] = yield* Effect.all([
      Effect.map(
        rows(sql.sectors(index, refDate), SectorRow),
        (rs) => rs.map((r): ReportSector => ({ sector: r.sector, weightPct: r.weight_pct, members: r.members }))
      ),
      rows(sql.header(index, refDate), HeaderRow).pipe(
        // a warehouse refined elsewhere may lack the raw table: the total is then the sum of the members
        Effect.catchIf((e) => e.reason === "NoSuchTable", () => Effect.succeed([]))
      ),
      tickers.length === 0 ? Effect.succeed([]) : rows(sql.series(index, tickers, refDate), SeriesRow),
      compareDate === undefined ? Effect.succeed([]) : Effect.map(
        rows(sql.members(index, compareDate), MemberRow),
        (rs) => rs.map((r): ReportChange => ({ ticker: r.ticker, company: r.company, weightPct: r.weight_pct }))
      )
    ], { concurrency: 2 })

    const series: Array<ReportSeries> = tickers.map((t) => {
      const own = seriesRows.filter((r) => r.ticker === t)
      return {
        ticker: t,
        company: own[own.length - 1]?.company ?? "",
        points: own.map((r) => ({ refDate: r.ref_date, weightPct: r.weight_pct }))
      }
    })

    let comparison: ReportComparison | null = null
    if (compareDate !== undefined) {
      const current: ReadonlyArray<ReportChange> = members.map((m) => ({
        ticker: m.ticker,
        company: m.company,
        weightPct: m.weightPct
      }))
      const [from, to, fromRows, toRows] = compareDate < refDate ?
        [compareDate, refDate, compareMembers, current] as const :
        [refDate, compareDate, current, compareMembers] as const
      const inFrom = new Set(fromRows.map((m) => m.ticker))
      const inTo = new Set(toRows.map((m) => m.ticker))
      comparison = {
        from,
        to,
        entered: toRows.filter((m) => !inFrom.has(m.ticker)),
        left: fromRows.filter((m) => !inTo.has(m.ticker))
      }
    }

    const summed = members.reduce((acc, m) => acc + BigInt(m.theoreticalQty), 0n).toString()
    return {
      indexCode: index,
      refDate,
      constituents: members.length,
      totalQuantity: header[0]?.total_qty ?? (members.length > 0 ? summed : null),
      reductor: header[0]?.reductor ?? null,
      members,
      sectors: sectors.every((s) => s.sector === null) ? [] : sectors,
      dates: allDates.slice(0, at + 1),
      series,
      comparison
    } satisfies ReportData
  }
)

const dedupe = <A>(xs: ReadonlyArray<A>): ReadonlyArray<A> => [...new Set(xs)]
