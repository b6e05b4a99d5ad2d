/**
 * User mistakes found after @effect/cli has parsed the line (exit code 2), and the decoding of option
 * text into branded domain values that produces them.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

/** A user mistake found after parsing (exit code 2). @category errors */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly detail: string }> {
  override get message() {
    return this.detail
  }
}

/** Decodes option text with a schema; a bad value is a UsageError naming it. @category decoding */
export const decodeWith = <A>(schema: Schema.Schema<A, string>, what: string) => (text: string) =>
  Schema.decodeUnknown(schema)(text).pipe(
    Effect.mapError(() => new UsageError({ detail: `invalid ${what}: ${JSON.stringify(text)}` }))
  )

/** `decodeWith` over an optional option: absent stays `undefined`. @category decoding */
export const decodeOptional = <A>(o: Option.Option<string>, decode: (text: string) => Effect.Effect<A, UsageError>) =>
  Option.match(o, { onNone: () => Effect.succeed(undefined), onSome: decode })
