/**
 * Everything the local adapter offers, wired on one warehouse folder: the filesystem object store,
 * the JSON catalog, core's raw layer, the DuckDB refine job and query engine, and the in-process
 * trigger (`LocalTrigger.flush` refines each date written since the last flush, once, from the
 * warehouse's raw-change journal, `RawJournal`).
 *
 * @since 0.1.0
 */
import type { Catalog } from "@b3-pipeline/core/Catalog"
import type { ObjectStore } from "@b3-pipeline/core/ObjectStore"
import type { QueryEngine, QueryError } from "@b3-pipeline/core/QueryEngine"
import * as RawLayer from "@b3-pipeline/core/RawLayer"
import type { RefineJob } from "@b3-pipeline/core/RefineJob"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Layer from "effect/Layer"
import * as DuckDbQueryEngine from "./DuckDbQueryEngine.js"
import * as DuckDbRefineJob from "./DuckDbRefineJob.js"
import * as FileSystemObjectStore from "./FileSystemObjectStore.js"
import * as LocalCatalog from "./LocalCatalog.js"
import * as LocalTrigger from "./LocalTrigger.js"
import * as RawJournal from "./RawJournal.js"
import * as RawServing from "./RawServing.js"
import type * as RefineSql from "./RefineSql.js"

/** @category models */
export interface LocalConfig {
  /** The warehouse folder (created on first write). */
  readonly warehouse: string
  /** Folder of refine.sql / duckdb-compat.sql; the package's own copy by default (see `RefineSql`). */
  readonly sqlDir?: string
  /** DuckDB threads for the refine and the queries (DuckDB's default otherwise). */
  readonly threads?: number
  /**
   * Which object-store writes are fsynced (`FileSystemObjectStore.Options`): by default the payload
   * archive and the quarantine only, the data nothing else can rebuild.
   */
  readonly durable?: boolean | ReadonlyArray<string>
}

/** What `LocalLive.layer` provides. @category models */
export type LocalServices =
  | ObjectStore
  | Catalog
  | RawLayer.RawLayer
  | RefineJob
  | QueryEngine
  | LocalTrigger.LocalTrigger
  | RawJournal.RawJournal
  | NodeContext.NodeContext

/**
 * The local environment on `config.warehouse`.
 *
 * @category layers
 */
export const layer = (config: LocalConfig): Layer.Layer<LocalServices, RefineSql.RefineSqlError | QueryError> => {
  const optional = {
    ...(config.sqlDir !== undefined ? { sqlDir: config.sqlDir } : {}),
    ...(config.threads !== undefined ? { threads: config.threads } : {})
  }
  // every write goes through the journaled store: the trigger's daily flush reads the journal
  const store = RawJournal.layer.pipe(
    Layer.provide(
      FileSystemObjectStore.layer(config.warehouse, config.durable !== undefined ? { durable: config.durable } : {})
    )
  )
  const base = Layer.mergeAll(store, LocalCatalog.layer(config.warehouse)).pipe(Layer.provideMerge(NodeContext.layer))
  const refine = DuckDbRefineJob.layer({ warehouse: config.warehouse, ...optional }).pipe(Layer.provideMerge(base))
  return Layer.mergeAll(
    RawLayer.layer,
    LocalTrigger.layer.pipe(Layer.provide(RawServing.layer({ warehouse: config.warehouse, ...optional }))),
    DuckDbQueryEngine.layer({ warehouse: config.warehouse, ...optional })
  ).pipe(Layer.provideMerge(refine))
}
