/**
 * Which backend a command runs on: `local` (the embedded default: a warehouse folder + DuckDB) or
 * `aws` (S3, Glue, Athena). Commands only use ports; this module is the one place that picks adapters.
 *
 * @since 0.1.0
 */
import type { QueryEngine } from "@b3-pipeline/core/QueryEngine"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as path from "node:path"
import type * as AwsTarget from "./AwsTarget.js"
import type * as LocalQuery from "./LocalQuery.js"
import type * as LocalTarget from "./LocalTarget.js"
import type { Services } from "./Refresher.js"

export { Refresher, type Services } from "./Refresher.js"

/** @category models */
export type Target = "local" | "aws"

/**
 * Why a target's services cannot be built: the local warehouse's SQL (`RefineSqlError`), the AWS
 * configuration (`ConfigError`).
 *
 * @category errors
 */
export type TargetError =
  | Layer.Layer.Error<ReturnType<typeof LocalTarget.layer>>
  | Layer.Layer.Error<typeof AwsTarget.layer>

/** The warehouse folder: `--warehouse`, else `$B3_WAREHOUSE`, else `./warehouse`. @category config */
export const resolveWarehouse = (flag: string | undefined): string =>
  path.resolve(flag ?? process.env["B3_WAREHOUSE"] ?? "warehouse")

/**
 * The local target (`LocalTarget.ts`), loaded on first use so that commands which never build it
 * (`--help`, `--version`, usage errors) do not load the adapters and DuckDB.
 *
 * @category layers
 */
export const layerLocal = (warehouse: string): Layer.Layer<Services, TargetError> =>
  Layer.unwrapEffect(Effect.promise(() => import("./LocalTarget.js")).pipe(Effect.map((m) => m.layer(warehouse))))

/**
 * The services of `target`, loaded on first use like `layerLocal` (a module of the CLI that fails to
 * load is a broken installation: a defect).
 *
 * @category layers
 */
export const layer = (target: Target, warehouse: string): Layer.Layer<Services, TargetError> =>
  target === "aws" ?
    Layer.unwrapEffect(Effect.promise(() => import("./AwsTarget.js")).pipe(Effect.map((m) => m.layer))) :
    layerLocal(warehouse)

/**
 * What `b3 query` uses: the query engine alone. Locally that is `LocalQuery` (DuckDB over the
 * warehouse folder, nothing else built or loaded); on AWS the whole target (Athena needs its
 * configuration like every other command).
 *
 * @category layers
 */
export const layerQuery = (
  target: Target,
  warehouse: string
): Layer.Layer<QueryEngine, TargetError | Layer.Layer.Error<ReturnType<typeof LocalQuery.layer>>> =>
  target === "aws" ?
    layer(target, warehouse) :
    Layer.unwrapEffect(Effect.promise(() => import("./LocalQuery.js")).pipe(Effect.map((m) => m.layer(warehouse))))
