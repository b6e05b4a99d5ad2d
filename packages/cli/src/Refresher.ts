/**
 * The `Refresher` service (how refines follow raw writes, and who may write) and the services every
 * command may use. Its own module so that `Env` and the targets (`LocalTarget`, `AwsTarget`) that
 * provide it import it without importing each other.
 *
 * @since 0.1.0
 */
import type { Catalog } from "@b3-pipeline/core/Catalog"
import type { ObjectStore } from "@b3-pipeline/core/ObjectStore"
import type { QueryEngine } from "@b3-pipeline/core/QueryEngine"
import type { RawLayer } from "@b3-pipeline/core/RawLayer"
import type { RefineJob, RefineJobError, RefineRun } from "@b3-pipeline/core/RefineJob"
import type { ReconcileOptions, ReconcileResult } from "@b3-pipeline/core/Trigger"
import type { WriterLockError } from "@b3-pipeline/local-adapter/WriterLock"
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

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
  ) => Effect.Effect<void, WriterLockError, Scope.Scope>
}>() {}

/** Everything a command may use. @category models */
export type Services = ObjectStore | Catalog | RawLayer | RefineJob | QueryEngine | Refresher
