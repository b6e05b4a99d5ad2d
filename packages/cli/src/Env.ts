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
import type { ReconcileOptions, ReconcileResult } from "@b3-pipeline/core/Trigger"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as path from "node:path"

/** @category models */
export type Target = "local" | "aws"

/**
 * How refines follow raw writes, and who may write. Locally every writing command takes the
 * warehouse's writer lock (`exclusive`) and ends with `Trigger.reconcile` (`afterBatch`): exactly
 * the stale dates are refined, and a date still stale fails the command. On AWS the bucket's S3
 * event starts the Glue job, so `afterBatch` does nothing and there is no lock.
 *
 * @category tags
 */
export class Refresher extends Context.Tag("@b3-pipeline/cli/Refresher")<Refresher, {
  readonly description: string
  readonly afterBatch: Effect.Effect<ReadonlyArray<RefineRun>, RefineJobError>
  /** `Trigger.reconcile` on this target (`b3 refine`). */
  readonly reconcile: (options: ReconcileOptions) => Effect.Effect<ReconcileResult, RefineJobError>
  /** True when refines finish inside `reconcile` (local), false when they only start (Glue). */
  readonly inProcess: boolean
  /**
   * Takes the target's writer lock for the scope (waiting, or failing with `wait: false`) and
   * removes what a killed writer left; `clean` removes leftovers even after a clean exit.
   */
  readonly exclusive: (
    command: string,
    options: { readonly wait: boolean; readonly clean?: boolean }
  ) => Effect.Effect<void, unknown, Scope.Scope>
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
