/**
 * `b3 report`: charts of an index's portfolio as one self-contained HTML page (no network at view
 * time), from the warehouse's refined table through the `QueryEngine` port.
 *
 * @since 0.1.0
 */
import { IndexCode, RefDate, Ticker } from "@b3-pipeline/core/Domain"
import * as Options from "@effect/cli/Options"
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as path from "node:path"
import type { ReportLocale } from "../report/Format.js"
import * as Stdio from "../Stdio.js"
import { decodeOptional, decodeWith } from "../Usage.js"

/** @category commands */
export const options = {
  index: Options.text("index").pipe(Options.withDescription("Index code (default IBOV)"), Options.optional),
  date: Options.text("date").pipe(
    Options.withDescription("B3 date YYYY-MM-DD of the portfolio shown (default: the index's latest)"),
    Options.optional
  ),
  compare: Options.text("compare").pipe(
    Options.withDescription("Date to compare members with (default: the previous snapshot)"),
    Options.optional
  ),
  ticker: Options.text("ticker").pipe(
    Options.withDescription("Ticker whose weight over time is drawn; repeatable (default: the 5 heaviest)"),
    Options.repeated
  ),
  out: Options.file("out").pipe(
    Options.withPseudoName("FILE"),
    Options.withDescription("The HTML file to write (default report.html)"),
    Options.withDefault("report.html")
  ),
  locale: Options.choice("locale", ["pt-BR", "en-US"]).pipe(
    Options.withDescription("Language of the headings and labels, number and date format (default pt-BR: Portuguese)"),
    Options.withDefault("pt-BR" as ReportLocale)
  )
}

/** @category commands */
export const description =
  "Charts of an index's portfolio (top weights, sectors, chosen tickers over time, members in and out) as one self-contained HTML page."

/** @category commands */
export const handler = (o: {
  readonly index: Option.Option<string>
  readonly date: Option.Option<string>
  readonly compare: Option.Option<string>
  readonly ticker: ReadonlyArray<string>
  readonly out: string
  readonly locale: ReportLocale
}) =>
  Effect.gen(function*() {
    const indexCode = yield* decodeOptional(o.index, (s) => decodeWith(IndexCode, "index code")(s.toUpperCase()))
    const refDate = yield* decodeOptional(o.date, decodeWith(RefDate, "date (want YYYY-MM-DD)"))
    const compareDate = yield* decodeOptional(o.compare, decodeWith(RefDate, "date (want YYYY-MM-DD)"))
    const tickers = yield* Effect.forEach(o.ticker, (t) => decodeWith(Ticker, "ticker")(t.toUpperCase()))
    const out = path.resolve(o.out)
    const { writeReport } = yield* Effect.promise(() => import("../report/Write.js"))
    const written = yield* writeReport({
      out,
      locale: o.locale,
      ...(indexCode !== undefined ? { indexCode } : {}),
      ...(refDate !== undefined ? { refDate } : {}),
      ...(compareDate !== undefined ? { compareDate } : {}),
      ...(tickers.length > 0 ? { tickers } : {})
    })
    yield* Stdio.out(
      `report: ${written.path} (${(written.bytes / 1024).toFixed(0)} KiB, self-contained; open it in any browser)\n`
    )
  })
