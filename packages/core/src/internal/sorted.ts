/** The first position of the ascending `sorted` whose element is not below `x` (binary search). */
export const lowerBound = <T extends string | number>(sorted: ReadonlyArray<T>, x: T): number => {
  let lo = 0
  let hi = sorted.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    const v = sorted[mid]
    if (v !== undefined && v < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** The largest element of the ascending `sorted` strictly below `x` (binary search), or undefined. */
export const lastBelow = <T extends string | number>(sorted: ReadonlyArray<T>, x: T): T | undefined => {
  const at = lowerBound(sorted, x)
  return at === 0 ? undefined : sorted[at - 1]
}
