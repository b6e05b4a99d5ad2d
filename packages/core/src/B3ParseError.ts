/**
 * The typed error of stage 2 (parse). It names what was wrong and where: the reason, the 1-based
 * data row, the field and the offending text. The payload bytes are never inside the error (the
 * caller keeps them, and quarantines them).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/** @category errors */
export const B3ParseErrorReason = Schema.Literal(
  /** The bytes are not JSON (HTML challenge page, truncated body, ...). */
  "NotJson",
  /** The bytes are not a B3 CSV (no title line, wrong columns). */
  "NotCsv",
  /** The JSON parsed but its shape is not the method's (missing header, page, results). */
  "BadEnvelope",
  /** No rows. */
  "Empty",
  /** A number in neither locale, or in the other locale than the payload's. */
  "BadNumber",
  /** A quantity or total that does not fit the storage type (int64). */
  "Overflow",
  /** A date that does not parse or does not exist (31/02/25). */
  "BadDate",
  /** No date in the payload and none supplied. */
  "MissingDate",
  /** A ticker or index code that breaks its grammar. */
  "BadTicker",
  "BadIndexCode",
  /** Any other field of the wrong type or empty. */
  "BadField",
  "DuplicateTicker",
  /** Sum of row quantities differs from the header/footer total. */
  "TotalMismatch",
  /** Weights do not sum to 100 within the rounding of 3-decimal rows. */
  "WeightSum",
  /** A sector's `partAcum` differs from the sum of its rows' weights. */
  "SectorSum",
  /** The payload's language cannot be told from its text, and none was given. */
  "AmbiguousLanguage",
  /** Pages of one payload disagree (page count, totals, header). */
  "PageMismatch"
)
/** @category errors */
export type B3ParseErrorReason = typeof B3ParseErrorReason.Type

/** @category errors */
export class B3ParseError extends Schema.TaggedError<B3ParseError>()("B3ParseError", {
  reason: B3ParseErrorReason,
  /** The wire format being decoded (`GetPortfolioDay`, `GetTheoricalPortfolio`, `CSV`). */
  format: Schema.String,
  /** 1-based data row (not counting headers), when the problem is in a row. */
  row: Schema.optional(Schema.Number),
  /** 1-based page, for paginated payloads. */
  page: Schema.optional(Schema.Number),
  field: Schema.optional(Schema.String),
  /** The offending text, cut to 80 characters. */
  value: Schema.optional(Schema.String),
  detail: Schema.String
}) {
  override get message(): string {
    const where = [
      this.page !== undefined ? `page ${this.page}` : undefined,
      this.row !== undefined ? `row ${this.row}` : undefined,
      this.field !== undefined ? `field ${this.field}` : undefined
    ].filter((s) => s !== undefined).join(", ")
    return `${this.format}: ${this.reason}${where !== "" ? ` at ${where}` : ""}: ${this.detail}${
      this.value !== undefined ? ` (got ${JSON.stringify(this.value)})` : ""
    }`
  }
  /** A parse error never gets better by trying again. */
  get retryable(): boolean {
    return false
  }
}
