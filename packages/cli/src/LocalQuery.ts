/**
 * `b3 query` on `--target local`: only the read-only DuckDB query engine over the warehouse folder.
 * A query needs none of the rest of `LocalLive` (object store, catalog, refine job, trigger, raw
 * serving copy, writer lock), and building those costs a second DuckDB instance and the refine SQL.
 * Loaded lazily by `Env.layerQuery`, in its own chunk of the bundle.
 *
 * @since 0.1.0
 */
import type { QueryEngine, QueryError } from "@b3-pipeline/core/QueryEngine"
import * as DuckDbQueryEngine from "@b3-pipeline/local-adapter/DuckDbQueryEngine"
import * as NodePath from "@effect/platform-node/NodePath"
import * as Layer from "effect/Layer"

/** @category layers */
export const layer = (warehouse: string): Layer.Layer<QueryEngine, QueryError> =>
  DuckDbQueryEngine.layer({ warehouse }).pipe(Layer.provide(NodePath.layer))
