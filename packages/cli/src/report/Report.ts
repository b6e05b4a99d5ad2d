/**
 * `b3 report` as a library: the data behind the portfolio report, read through core's
 * `QueryEngine` port with SQL that runs on Athena (Trino) and DuckDB alike, and its rendering as one
 * self-contained HTML page. The parts: `Model` (what the page shows, the error, the rows' Schemas),
 * `Sql`, `Load`, `Render` (with `Charts`, `Format`, `Text`) and `Write`; this module gathers them and
 * none of them imports it.
 *
 * @since 0.1.0
 */
export { REPORT_LOCALES, ReportLocale } from "./Format.js"
export { loadReportData } from "./Load.js"
export {
  type LoadReportOptions,
  type ReportChange,
  type ReportComparison,
  type ReportData,
  ReportError,
  type ReportMember,
  type ReportPoint,
  type ReportSector,
  type ReportSeries
} from "./Model.js"
export { type RenderOptions, renderReport, TOP_BARS } from "./Render.js"
export { sql } from "./Sql.js"
export { writeReport, type WriteReportOptions, type WrittenReport } from "./Write.js"
