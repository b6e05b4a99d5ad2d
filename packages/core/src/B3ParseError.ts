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
  /** Starts like JSON but does not parse (a truncated body, a stray character). */
  "NotJson",
  /** An HTML page (a Cloudflare challenge, a maintenance page), not a payload. */
  "HtmlPage",
  /** Binary bytes (NUL or control characters), not text. */
  "NotText",
  /** Text in an encoding the decoders cannot read. (UTF-8 with or without a BOM, latin1 and UTF-16 are read.) */
  "UnsupportedEncoding",
  /** Valid JSON, but not a B3 body (no `page`, `header` or `results`). */
  "NotB3Json",
  /** Text, but not a B3 CSV download (no title line, wrong columns, stray lines). */
  "NotB3Csv",
  /** The JSON is B3's shape but a part of its envelope is wrong (missing header, bad page). */
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
  /** The language given (`--language`) contradicts the payload's own labels or numbers. */
  "LanguageMismatch",
  /** Pages of one payload disagree (page count, totals, header). */
  "PageMismatch",
  // Plausibility (checked on ingest, after a successful decode; see B3Wire.checkPlausible)
  /** A date after today in Sao Paulo (plus one day) or before B3's first published portfolio. */
  "ImplausibleDate",
  /** An index code that is not one B3 publishes (allowed with `--allow-unknown-index`). */
  "UnknownIndex",
  /** A text field longer than any B3 value (an asset name of megabytes). */
  "FieldTooLong",
  /** The payload is larger than the size limit (`--max-payload-mb`). */
  "TooLarge"
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
