/**
 * B3's trading calendar: which days the equities market trades, so that gaps in an index's history
 * can be told from weekends and holidays. B3's holidays are not the national ones (it closes on
 * Dec 24 and the year's last weekday; it closed on Sao Paulo's city and state holidays until 2021);
 * the list is data, generated and sourced in `scripts/b3-holidays.mjs`, for the years
 * `FIRST_YEAR`..`LAST_YEAR`. Outside those years only weekends are known.
 *
 * @since 0.1.0
 */
import { FIRST_YEAR, HOLIDAYS, LAST_YEAR } from "./internal/b3Holidays.js"

export {
  /** First year the holiday list covers. @category constants */
  FIRST_YEAR,
  /** Last year the holiday list covers. @category constants */
  LAST_YEAR
}

const byDate: ReadonlyMap<string, string> = new Map(HOLIDAYS)

const DAY_MS = 86_400_000
const epochDay = (date: string): number => Date.parse(`${date}T00:00:00Z`) / DAY_MS
const isoOf = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10)

/** True when the holiday list covers the date's year. @category calendar */
export const covers = (date: string): boolean => {
  const year = Number(date.slice(0, 4))
  return year >= FIRST_YEAR && year <= LAST_YEAR
}

/** The name of B3's holiday on that weekday (in Portuguese, as B3 names it), if any. @category calendar */
export const holidayName = (date: string): string | undefined => byDate.get(date)

/** True on a weekday that is not a B3 holiday (`YYYY-MM-DD`). @category calendar */
export const isTradingDay = (date: string): boolean => {
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay()
  return weekday !== 0 && weekday !== 6 && !byDate.has(date)
}

/** B3's trading days from `from` to `to`, both included, ascending. @category calendar */
export const tradingDays = (from: string, to: string): Array<string> => {
  const out: Array<string> = []
  for (let d = epochDay(from), last = epochDay(to); d <= last; d++) {
    const date = isoOf(d)
    if (isTradingDay(date)) out.push(date)
  }
  return out
}

/**
 * The trading days between the first and the last of `dates` (a history's dates, any order) that
 * `dates` lacks, ascending.
 *
 * @category calendar
 */
export const missingTradingDays = (dates: ReadonlyArray<string>): Array<string> => {
  if (dates.length === 0) return []
  const sorted = [...dates].sort()
  const first = sorted[0]
  const last = sorted[sorted.length - 1]
  if (first === undefined || last === undefined) return []
  const held = new Set(sorted)
  return tradingDays(first, last).filter((d) => !held.has(d))
}
