/**
 * The row every benchmark returns: one measured figure with its unit (`bench/run.ts` prints them),
 * and, for a figure that has a target, the check against it (`check.ts` builds those).
 */
export interface BenchRow {
  readonly name: string
  readonly value: number
  readonly unit: string
  readonly note?: string
  readonly check?: Check
}

/** A figure checked against its target: a fixed bound, or a baseline or floor measured in the same run. */
export interface Check {
  /** What the figure is compared with, e.g. "bound", "DuckDB alone (same run)", "floor (same run)". */
  readonly against: string
  /** The bound, baseline or floor, in the figure's unit. */
  readonly reference: number
  /** figure / reference. */
  readonly ratio: number
  /** The target as text, e.g. "< 150 ms" or "ratio <= 0.5". */
  readonly goal: string
  readonly met: boolean
  /**
   * Set when the target is defined for another size than this run's (e.g. "a year's warehouse" in a
   * 20-day run): the verdict is printed for reference, and not counted among the targets.
   */
  readonly referenceOnly?: string
}
