/**
 * Which backend a command runs on: `local` (the embedded default: a warehouse folder + DuckDB) or
 * `aws` (S3, Glue, Athena). Commands only use ports; this module is the one place that picks adapters.
 *
 * @since 0.1.0
 */
import type { Catalog } from "@b3-pipeline/core/Catalog"
import type { ObjectStore } from "@b3-pipeline/core/ObjectStore"
import type { QueryEngine } from "@b3-pipeline/core/QueryEngine"
import type { RawLayer } from "@b3-pipeline/core/RawLayer"
import type { RefineJob, RefineJobError, RefineRun } from "@b3-pipeline/core/RefineJob"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as path from "node:path"

/** @category models */
export type Target = "local" | "aws"

/**
 * How refines follow raw writes. Locally the CLI refines each written date once after a batch; on
 * AWS the bucket's S3 event starts the Glue job, so there is nothing to do here.
 *
 * @category tags
 */
export class Refresher extends Context.Tag("@b3-pipeline/cli/Refresher")<Refresher, {
  readonly description: string
  readonly afterBatch: Effect.Effect<ReadonlyArray<RefineRun>, RefineJobError>
}>() {}

/** Everything a command may use. @category models */
export type Services = ObjectStore | Catalog | RawLayer | RefineJob | QueryEngine | Refresher

/** The warehouse folder: `--warehouse`, else `$B3_WAREHOUSE`, else `./warehouse`. @category config */
export const resolveWarehouse = (flag: string | undefined): string =>
  path.resolve(flag ?? process.env["B3_WAREHOUSE"] ?? "warehouse")

/**
 * The local target (`LocalTarget.ts`), loaded on first use so that commands which never build it
 * (`--help`, `--version`, usage errors) do not load the adapters and DuckDB.
 *
 * @category layers
 */
export const layerLocal = (warehouse: string): Layer.Layer<Services, unknown> =>
  Layer.unwrapEffect(Effect.promise(() => import("./LocalTarget.js")).pipe(Effect.map((m) => m.layer(warehouse))))

/** @category layers */
export const layer = (target: Target, warehouse: string): Layer.Layer<Services, unknown> =>
  target === "aws" ?
    Layer.unwrapEffect(Effect.promise(() => import("./AwsTarget.js")).pipe(Effect.map((m) => m.layer))) :
    layerLocal(warehouse)
