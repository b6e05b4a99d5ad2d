/**
 * `b3 report`'s last step: load the data, render the page, write the file.
 *
 * @since 0.1.0
 */
import type { QueryEngine, QueryError } from "@b3-pipeline/core/QueryEngine"
import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type { ReportLocale } from "./Format.js"
import { loadReportData } from "./Load.js"
import type { LoadReportOptions, ReportData, ReportError } from "./Model.js"
import { renderReport } from "./Render.js"

/** @category cli */
export interface WriteReportOptions extends LoadReportOptions {
  /** Default `"pt-BR"`. */
  readonly locale?: ReportLocale
  /** The HTML file to write. */
  readonly out: string
}

/** What `writeReport` wrote. @category cli */
export interface WrittenReport {
  readonly path: string
  readonly bytes: number
  readonly data: ReportData
}

/**
 * Loads, renders and writes the report (what `b3 report` does). The footer records the clock's time.
 *
 * @category cli
 */
export const writeReport: (
  options: WriteReportOptions
) => Effect.Effect<
  WrittenReport,
  ReportError | QueryError | PlatformError,
  QueryEngine | FileSystem.FileSystem
> = Effect.fn("Report.writeReport")(function*(options: WriteReportOptions) {
  const { locale = "pt-BR", out, ...load } = options
  const data = yield* loadReportData(load)
  const now = yield* Clock.currentTimeMillis
  const html = renderReport(data, { locale, generatedAt: new Date(now).toISOString() })
  const bytes = new TextEncoder().encode(html)
  const fs = yield* FileSystem.FileSystem
  yield* fs.writeFile(out, bytes)
  return { path: out, bytes: bytes.byteLength, data }
})
