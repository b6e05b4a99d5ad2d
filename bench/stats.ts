/**
 * The statistics the bench modules report, in one place.
 */

/** The median: the middle value, or the mean of the two middle values for an even count; NaN when empty. */
export const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  const upper = s[m]
  if (upper === undefined) return Number.NaN
  return s.length % 2 === 1 ? upper : ((s[m - 1] ?? upper) + upper) / 2
}

/** The arithmetic mean; 0 when empty. */
export const mean = (xs: ReadonlyArray<number>): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)

/** `x` rounded to `digits` decimals (1 by default), for a report row. */
export const round = (x: number, digits = 1): number => Number(x.toFixed(digits))
