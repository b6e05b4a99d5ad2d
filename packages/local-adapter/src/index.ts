/**
 * The local adapter: files + Parquet + DuckDB.
 *
 * @since 0.1.0
 */
export * as DuckDbQueryEngine from "./DuckDbQueryEngine.js"
export * as DuckDbRefineJob from "./DuckDbRefineJob.js"
export * as FileSystemObjectStore from "./FileSystemObjectStore.js"
export * as LocalCatalog from "./LocalCatalog.js"
export * as LocalLive from "./LocalLive.js"
export * as LocalTrigger from "./LocalTrigger.js"
export * as RawJournal from "./RawJournal.js"
export * as RawServing from "./RawServing.js"
export * as RefineSql from "./RefineSql.js"
export * as WriterLock from "./WriterLock.js"
