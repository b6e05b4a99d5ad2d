/**
 * The `RawLayer` port (stage 3, write raw): the exact payload bytes and a Parquet file of the rows,
 * under deterministic keys, safe to re-run; and the quarantine for payloads that fail to parse.
 *
 * Layout (see `Tables.ts`):
 * - `raw/b3_portfolio_raw/ref_date=D/index_code=C/part-00000.parquet`: the table file, replaced
 *   atomically when a different payload arrives for the same (index, date);
 * - `raw/b3_portfolio_payloads/ref_date=D/index_code=C/<sha256>/page-NNN.<ext>` and `request.json`: every
 *   payload ever received, keyed by content, never overwritten;
 * - `quarantine/<fetched date>/<index>/<sha256>/page-NNN.<ext>` and `error.json`.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type { IndexCode, Portfolio, RefDate } from "./Domain.js"
import type { ObjectKey } from "./ObjectStore.js"
import type { ParseError } from "./ParseError.js"
import type { Payload } from "./PortfolioSource.js"

/** @category models */
export interface RawWrite {
  readonly indexCode: IndexCode
  readonly refDate: RefDate
  readonly parquetKey: ObjectKey
  readonly payloadKeys: ReadonlyArray<ObjectKey>
  readonly rows: number
  /** `unchanged`: the same payload was already stored; nothing was written, no event fired. */
  readonly outcome: "created" | "replaced" | "unchanged"
}

/** @category errors */
export class RawLayerError extends Schema.TaggedError<RawLayerError>()("RawLayerError", {
  reason: Schema.Literal("Store", "Encode", "Decode"),
  method: Schema.String,
  key: Schema.optional(Schema.String),
  detail: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `RawLayer.${this.method} failed (${this.reason})${this.key !== undefined ? ` for ${this.key}` : ""}${
      this.detail !== undefined ? `: ${this.detail}` : ""
    }`
  }
  get retryable(): boolean {
    return false
  }
}

/** @category tags */
export class RawLayer extends Context.Tag("@b3-pipeline/core/RawLayer")<RawLayer, {
  readonly write: (payload: Payload, portfolio: Portfolio) => Effect.Effect<RawWrite, RawLayerError>
  /** Keeps a payload that failed to parse, with its error beside it. Returns the error file's key. */
  readonly quarantine: (payload: Payload, error: ParseError) => Effect.Effect<ObjectKey, RawLayerError>
}>() {}
