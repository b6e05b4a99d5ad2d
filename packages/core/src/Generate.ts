/**
 * Deterministic, realistic portfolios for tests, the B3 simulator, benchmarks and the offline demo.
 * STUB: the codec helper replaces the body.
 *
 * @since 0.1.0
 */
import type { IndexCode, Portfolio, RefDate, Segment } from "./Domain.js"

/** @category generators */
export interface GenerateOptions {
  readonly indexCode: IndexCode
  readonly refDate: RefDate
  /** Members; default realistic per index (IBOV ~85, IBRA ~180). */
  readonly size?: number
  readonly segment?: Segment
  readonly seed?: number
}

/**
 * A portfolio that satisfies every invariant the decoders check (weights sum to 100.000 exactly,
 * quantities sum to the total, sector sums consistent, unique valid tickers). Same options, same
 * portfolio.
 *
 * @category generators
 */
export declare const generatePortfolio: (options: GenerateOptions) => Portfolio
