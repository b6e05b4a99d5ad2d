/**
 * Targets for bench figures: each returns the `Check` that `bench/run.ts` prints (figure, what it is
 * compared with, the ratio, met / not met). Only figures measured in the current run are compared.
 */
import type { Check } from "./types.js"

const ratioOf = (value: number, reference: number): number => reference === 0 ? Infinity : value / reference

/** `value` must stay below a fixed bound (a latency, a peak RSS). */
export const below = (value: number, bound: number, unit: string): Check => ({
  against: "bound",
  reference: bound,
  ratio: ratioOf(value, bound),
  goal: `< ${bound} ${unit}`,
  met: value < bound
})

/**
 * `value` divided by a reference measured in the same run must be at most `maxRatio` (e.g. 0.5 for
 * "at least 2x faster than the baseline", 1.2 for "within 1.2x of the empty case").
 */
export const ratioAtMost = (value: number, reference: number, against: string, maxRatio: number): Check => ({
  against,
  reference,
  ratio: ratioOf(value, reference),
  goal: `ratio <= ${maxRatio}`,
  met: ratioOf(value, reference) <= maxRatio
})

/** `value` must be at least `minRatio` times a reference measured in the same run (a throughput). */
export const ratioAtLeast = (value: number, reference: number, against: string, minRatio: number): Check => ({
  against,
  reference,
  ratio: ratioOf(value, reference),
  goal: `ratio >= ${minRatio}`,
  met: ratioOf(value, reference) >= minRatio
})

/**
 * `BENCH_SMOKE=1`: every module runs at a tiny size (CI's smoke test that the benches still run; its
 * figures mean nothing and no target is expected to be met).
 */
export const SMOKE = process.env["BENCH_SMOKE"] === "1"

/** `value` must be at most a fixed bound (a ratio such as "flat: <= 1.2"). */
export const atMost = (value: number, bound: number, unit: string): Check => ({
  against: "bound",
  reference: bound,
  ratio: ratioOf(value, bound),
  goal: `<= ${bound} ${unit}`,
  met: value <= bound
})

/**
 * A target the issue defines for a given size (a year's warehouse, a year's backfill), checked in a
 * run of another size: the same comparison, printed for reference and not counted (`referenceOnly`).
 */
export const forSize = (check: Check, applies: boolean, scope: string): Check =>
  applies ? check : { ...check, referenceOnly: scope }
