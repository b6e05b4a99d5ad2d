/**
 * The options every command takes (`--warehouse`, `--target`), accepted before or after the
 * subcommand, and (from `Warehouse`, which the quick path of `b3 query` shares) the check that a
 * reading command points at a warehouse while a writing command creates one and says so.
 *
 * @since 0.1.0
 */
import * as Options from "@effect/cli/Options"
import * as Option from "effect/Option"

/** @category models */
export type Target = "local" | "aws"

const warehouse = Options.text("warehouse").pipe(
  Options.withPseudoName("DIR"),
  Options.withDescription(
    "Warehouse folder of the local target (default: $B3_WAREHOUSE, else ./warehouse). May come before or after the command."
  ),
  Options.optional
)

const target = Options.choice("target", ["local", "aws"]).pipe(
  Options.withDescription(
    "local: a warehouse folder + DuckDB (default); aws: S3, Glue and Athena configured from the environment (README, \"On AWS\")"
  ),
  Options.optional
)

/**
 * The global options, declared on the root command and on every subcommand so that both
 * `b3 --warehouse D query ...` and `b3 query --warehouse D ...` work and each `--help` lists them.
 *
 * @category options
 */
export const options = { warehouse, target }

/** @category models */
export interface Values {
  readonly warehouse: Option.Option<string>
  readonly target: Option.Option<Target>
}

/** The effective values: the subcommand's (given after it) win over the root's. @category options */
export const resolve = (root: Values, sub: Values): { readonly warehouse?: string; readonly target: Target } => {
  const dir = Option.orElse(sub.warehouse, () => root.warehouse)
  return {
    target: Option.getOrElse(Option.orElse(sub.target, () => root.target), () => "local" as const),
    ...(Option.isSome(dir) ? { warehouse: dir.value } : {})
  }
}

/** The warehouse check, in its own module (`Warehouse`) for the quick path of `b3 query`. @category warehouse */
export { type Access, ensureWarehouse, WAREHOUSE_ENTRIES } from "./Warehouse.js"
