/**
 * Runs a `b3 query` command line that `QuickQuery.plan` took, without the command tree: the same
 * warehouse check (`Warehouse`), query engine (`Env.layerQuery`, the local target), handler
 * (`commands/query.ts`), failure printing (`Failure`) and process ending (`Runner`) as the full
 * program, so it prints the same bytes and ends with the same exit code. Loaded by `bin.ts`, in its own
 * chunk of the bundle, which holds neither @effect/cli nor `NodeContext`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as QueryCommand from "./commands/query.js"
import * as Env from "./Env.js"
import * as Failure from "./Failure.js"
import type { Plan } from "./QuickQuery.js"
import { runMain } from "./Runner.js"
import { ensureWarehouse } from "./Warehouse.js"

/**
 * The plan's query on the local warehouse, succeeding with the exit code (0, or the failure's after
 * printing it).
 *
 * @category running
 */
export const program = (plan: Plan): Effect.Effect<number> =>
  Effect.suspend(() => {
    const warehouse = Env.resolveWarehouse(plan.warehouse)
    return Effect.zipRight(
      ensureWarehouse(warehouse, "read"),
      QueryCommand.handler({
        sql: Option.fromNullable(plan.sql),
        file: Option.fromNullable(plan.file),
        format: plan.format
      }).pipe(Effect.provide(Env.layerQuery("local", warehouse)))
    )
  }).pipe(
    Effect.as(0),
    Effect.catchAll(Failure.report),
    Effect.catchAllDefect(Failure.reportDefect)
  )

/** Runs `program(plan)` as this process (`Runner.runMain`). @category running */
export const run = (plan: Plan): void => runMain(program(plan))
