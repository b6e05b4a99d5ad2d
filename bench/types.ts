/**
 * The row every benchmark returns: one measured figure with its unit (`bench/run.ts` prints them).
 */
export interface BenchRow {
  readonly name: string
  readonly value: number
  readonly unit: string
  readonly note?: string
}
